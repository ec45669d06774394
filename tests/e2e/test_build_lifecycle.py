"""Deploy a Build under the real engine against the emulator: create with waiting, a second up
that changes nothing, an in-place setting change, a StackReference reader, and the token's
absence from state, outputs and engine output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from engine_harness import PROJECTS_DIR, EngineOutput, ProjectStackFactory
from pulumi import automation as auto

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle, run_emulator

BUILD_PROJECT = PROJECTS_DIR / "build_app"
CONSUMER_PROJECT = PROJECTS_DIR / "build_consumer"
BUILD_TYPE = "pulumi-python:dynamic/codemagic:Build"
BUILD_ID_PATTERN = re.compile(r"[0-9a-f]{24}")
ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00")


@pytest.fixture
def token() -> str:
    """A fake token unique to this test, so that any copy of it can be searched for."""
    return f"cm-fake-token-{uuid.uuid4().hex}"


@pytest.fixture
def codemagic(token: str) -> Iterator[EmulatorHandle]:
    # Each in-progress status lasts 0.4 s, so the polls see more than the first and last.
    with run_emulator(token=token, phase_seconds=0.4) as handle:
        yield handle


def build_config(codemagic: EmulatorHandle, **arguments: Any) -> dict[str, str]:
    build = {
        "app_id": SAMPLE_APP_ID,
        "workflow_id": "android-release",
        "branch": "main",
        "poll_interval_seconds": 1,
        **arguments,
    }
    return {"build": json.dumps(build), "codemagic:apiUrl": codemagic.base_url}


def changes(result: auto.UpResult | auto.RefreshResult) -> dict[str, int]:
    """Return the resource changes other than "same"."""
    counts = result.summary.resource_changes or {}
    return {kind: count for kind, count in counts.items() if kind != "same"}


def test_build_lifecycle(
    project_stack: ProjectStackFactory,
    engine_output: EngineOutput,
    codemagic: EmulatorHandle,
    token: str,
) -> None:
    config = build_config(
        codemagic,
        environment={"variables": {"FLAVOR": "prod"}, "software_versions": {"flutter": "3.24.0"}},
        labels=["release"],
        triggers=["sha-1", 7],
        public_artefact_url_ttl_hours=24,
    )
    stack = project_stack(BUILD_PROJECT, config=config, secret_config={"codemagic:token": token})

    # Create: one build starts and is awaited until it finishes.
    created = stack.up(on_output=engine_output, color="never")
    outputs = {name: output.value for name, output in created.outputs.items()}
    assert changes(created) == {"create": 2}
    assert codemagic.start_count == 1

    build_id = outputs["build_id"]
    emulated = codemagic.build(build_id)["build"]
    assert BUILD_ID_PATTERN.fullmatch(build_id)
    assert outputs["status"] == "finished"
    assert outputs["build_number"] == emulated["index"]
    assert type(outputs["build_number"]) is int
    assert outputs["build_url"] == f"https://codemagic.io/app/{SAMPLE_APP_ID}/build/{build_id}"
    # Stack outputs leave out null values.
    assert "message" not in outputs
    assert ISO_TIMESTAMP.fullmatch(outputs["started_at"])
    assert ISO_TIMESTAMP.fullmatch(outputs["finished_at"])
    assert outputs["public_artefact_urls_expire_at"] is not None

    # Artefacts: a list of maps and a map of name to URL, as the emulator lists them.
    assert [artefact["name"] for artefact in outputs["artefacts"]] == [
        artefact["name"] for artefact in emulated["artefacts"]
    ]
    apk = next(a for a in outputs["artefacts"] if a["name"] == "app-release.apk")
    assert type(apk["size"]) is int
    assert apk["md5"] == next(a["md5"] for a in emulated["artefacts"] if a["name"] == apk["name"])
    assert outputs["artefact_urls"] == {a["name"]: a["url"] for a in emulated["artefacts"]}
    assert set(outputs["public_artefact_urls"]) == set(outputs["artefact_urls"])

    # Inputs come back normalized, with defaults filled in.
    assert outputs["environment"] == {
        "variables": {"FLAVOR": "prod"},
        "groups": [],
        "software_versions": {"flutter": "3.24.0"},
    }
    assert outputs["labels"] == ["release"]
    assert outputs["triggers"] == ["sha-1", 7]
    assert "tag" not in outputs
    assert outputs["wait_for_completion"] is True
    assert outputs["wait_timeout_minutes"] == 180
    assert outputs["success_statuses"] == ["finished", "warning"]
    assert outputs["cancel_on_delete"] is True
    assert outputs["public_artefact_url_ttl_hours"] == 24

    # Only the public URLs are secret.
    secret_outputs = sorted(name for name, output in created.outputs.items() if output.secret)
    assert secret_outputs == ["program_types", "public_artefact_urls"]

    # Inside the program, outputs have the Python types their annotations declare.
    program_types = outputs["program_types"]
    assert program_types["build_number"] == "int"
    assert program_types["public_artefact_url_ttl_hours"] == "int"
    assert set(program_types["artefact_items"]) == {"BuildArtefact/int"}
    assert program_types["started_at"] == "str"

    # The start request carried the inputs.
    request = codemagic.build(build_id)["startRequest"]
    assert request["environment"]["variables"] == {"FLAVOR": "prod"}
    assert "release" in request["labels"]

    # Each status change shows once while the build runs, with the build number and URL, and
    # the engine repeats those lines once in its closing diagnostics.
    reported = re.findall(
        rf"Codemagic build #{outputs['build_number']} of workflow android-release status: (\w+) \("
        + re.escape(outputs["build_url"]),
        engine_output.text,
    )
    while_running = reported[: len(reported) // 2]
    assert reported[len(reported) // 2 :] == while_running
    assert while_running[0] == "queued"
    assert while_running[-1] == "finished"
    assert len(set(while_running)) == len(while_running)

    # The same program again changes nothing and starts no build.
    repeated = stack.up(on_output=engine_output, color="never")
    assert changes(repeated) == {}
    assert codemagic.start_count == 1

    # A new wait setting updates in place and starts no build.
    stack.set_config(
        "build",
        auto.ConfigValue(json.dumps({**json.loads(config["build"]), "wait_timeout_minutes": 30})),
    )
    updated = stack.up(on_output=engine_output, color="never")
    assert changes(updated) == {"update": 1}
    assert updated.outputs["wait_timeout_minutes"].value == 30
    assert updated.outputs["build_id"].value == build_id
    assert codemagic.start_count == 1

    # Another project reads the artefact URLs through a StackReference.
    consumer = project_stack(
        CONSUMER_PROJECT,
        config={"source": f"organization/codemagic-build-app/{stack.name}"},
    )
    consumed = consumer.up(on_output=engine_output, color="never")
    assert consumed.outputs["artefact_urls"].value == outputs["artefact_urls"]
    assert consumed.outputs["apk_url"].value == outputs["artefact_urls"]["app-release.apk"]

    # A refresh keeps the public URLs secret in the state.
    refreshed = stack.refresh(on_output=engine_output, color="never")
    assert changes(refreshed) == {}
    plain_export = export_without_secrets(stack)
    for public_url in outputs["public_artefact_urls"].values():
        assert public_url not in plain_export

    # The token is in no exported state, output or engine output. Only the engine's default
    # provider record keeps the stack config, and it keeps the token encrypted.
    assert token not in plain_export
    assert token not in json.dumps(outputs)
    assert token not in engine_output.text
    decrypted = stack.export_stack().deployment
    assert decrypted is not None
    build_records = [r for r in decrypted["resources"] if r["type"] == BUILD_TYPE]
    assert len(build_records) == 1
    assert token not in json.dumps(build_records)


def export_without_secrets(stack: auto.Stack) -> str:
    """Run ``pulumi stack export`` as a user would, without ``--show-secrets``."""
    workspace = stack.workspace
    assert isinstance(workspace, auto.LocalWorkspace)
    environment = {**os.environ, **workspace.env_vars}
    if workspace.pulumi_home:
        environment["PULUMI_HOME"] = workspace.pulumi_home
    completed = subprocess.run(
        ["pulumi", "stack", "export", "--stack", stack.name],
        cwd=workspace.work_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout
