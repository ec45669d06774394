"""Tests of the Build resource class with Pulumi's mock engine: registration and output types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from pulumi_codemagic.resource import Build, BuildArtefact, BuildEnvironmentArgs

BUILD_ID = "65aa00112233445566778899"
APP_ID = "64f0a1b2c3d4e5f6a7b8c9d0"


class BuildMocks(pulumi.runtime.Mocks):
    """Record registrations and return outputs as the engine does, with numbers as floats."""

    def __init__(self) -> None:
        self.registrations: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registrations.append(args)
        outputs = {
            **args.inputs,
            "build_id": BUILD_ID,
            "status": "finished",
            "build_number": 48.0,
            "artefacts": [
                {
                    "name": "app.apk",
                    "type": "apk",
                    "url": "https://api.example.invalid/artifacts/a/b/app.apk",
                    "md5": None,
                    "size": 1234.0,
                    "version_name": None,
                    "package_name": None,
                }
            ],
            "artefact_urls": {"app.apk": "https://api.example.invalid/artifacts/a/b/app.apk"},
            "public_artefact_url_ttl_hours": 24.0,
        }
        return BUILD_ID, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pytest.fixture
def mocks() -> Iterator[BuildMocks]:
    mocks = BuildMocks()
    pulumi.runtime.set_mocks(mocks, preview=False)
    yield mocks


def resolved(output: pulumi.Output[Any]) -> Any:
    """Return the value of ``output`` (only inside a ``pulumi.runtime.test`` function)."""
    return output.future()


@pulumi.runtime.test
def test_build_registers_dynamic_type(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(_: Any) -> None:
        assert mocks.registrations[0].typ == "pulumi-python:dynamic/codemagic:Build"

    return build.build_id.apply(check)


@pulumi.runtime.test
def test_build_converts_environment_args(mocks: BuildMocks) -> Any:
    build = Build(
        "android",
        app_id=APP_ID,
        workflow_id="android-release",
        branch="main",
        environment=BuildEnvironmentArgs(variables={"FLAVOR": "prod"}, groups=["signing"]),
    )

    def check(_: Any) -> None:
        sent = mocks.registrations[0].inputs["environment"]
        assert sent == {"variables": {"FLAVOR": "prod"}, "groups": ["signing"]}

    return build.build_id.apply(check)


@pulumi.runtime.test
def test_build_accepts_environment_output(mocks: BuildMocks) -> Any:
    environment = pulumi.Output.from_input(BuildEnvironmentArgs(software_versions={"xcode": "16"}))
    build = Build(
        "ios", app_id=APP_ID, workflow_id="ios-release", tag="v1", environment=environment
    )

    def check(_: Any) -> None:
        sent = mocks.registrations[0].inputs["environment"]
        assert sent == {"software_versions": {"xcode": "16"}}

    return build.build_id.apply(check)


@pulumi.runtime.test
def test_build_sends_provider_as_secret(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(_: Any) -> None:
        sent = mocks.registrations[0].inputs["__provider"]
        assert rpc.is_rpc_secret(sent)
        assert isinstance(rpc.unwrap_rpc_secret(sent), str)

    return build.build_id.apply(check)


@pulumi.runtime.test
def test_build_leaves_unset_inputs_out(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(_: Any) -> None:
        assert sorted(mocks.registrations[0].inputs) == [
            "__provider",
            "app_id",
            "branch",
            "workflow_id",
        ]

    return build.build_id.apply(check)


@pulumi.runtime.test
def test_build_number_is_int(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(number: Any) -> None:
        assert number == 48
        assert type(number) is int

    return build.build_number.apply(check)


@pulumi.runtime.test
def test_ttl_output_is_int(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(hours: Any) -> None:
        assert type(hours) is int

    return build.public_artefact_url_ttl_hours.apply(check)


@pulumi.runtime.test
def test_artefacts_are_typed_dicts(mocks: BuildMocks) -> Any:
    build = Build("android", app_id=APP_ID, workflow_id="android-release", branch="main")

    def check(artefacts: Any) -> None:
        artefact = artefacts[0]
        assert isinstance(artefact, BuildArtefact)
        assert artefact["name"] == "app.apk"
        assert artefact.size == 1234
        assert type(artefact["size"]) is int

    return build.artefacts.apply(check)


def test_environment_args_leave_out_unset() -> None:
    assert BuildEnvironmentArgs(groups=["g"]).to_dict() == {"groups": ["g"]}
