from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pydantic
import pytest
from client_fakes import APP_ID, BUILD_ID, build_envelope, build_json

from pulumi_codemagic.models import (
    Application,
    ApplicationList,
    Artefact,
    Build,
    BuildEnvelope,
    BuildEnvironment,
    BuildListPage,
    PublicUrl,
    StartBuildRequest,
    build_page_url,
)

UTC = timezone.utc

VNC_PASSWORD = "vnc-password-fake-1234"
SSH_SCRIPT_URL = "https://codemagic.io/ssh/script-fake-5678"
APP_SECRET = "app-secret-value-fake-9012"


def _build_with_credentials() -> dict[str, Any]:
    return build_json(
        status="building",
        sshAccessEnabled=True,
        vncAccess={
            "host": "10.0.0.1",
            "port": 5900,
            "username": "builder",
            "password": VNC_PASSWORD,
        },
        sshAccess={"scriptUrl": SSH_SCRIPT_URL},
    )


def _application_with_credentials() -> dict[str, Any]:
    return {
        "_id": APP_ID,
        "appName": "counter_flutter",
        "appEnvironmentVariables": [{"key": "SIGNING_KEY", "value": APP_SECRET}],
        "workflows": {"wf1": {"environmentVariables": [{"key": "K", "value": APP_SECRET}]}},
    }


# Builds


def test_build_yaml_workflow_from_file_workflow_id() -> None:
    build = Build.model_validate(build_json(workflowId=None, fileWorkflowId="ios-release"))

    assert build.workflow_id == "ios-release"


def test_build_workflow_editor_id_kept() -> None:
    build = Build.model_validate(
        build_json(workflowId="5d85f242e941e00019e81bd2", fileWorkflowId=None)
    )

    assert build.workflow_id == "5d85f242e941e00019e81bd2"


def test_build_no_workflow_fields() -> None:
    payload = build_json()
    del payload["workflowId"], payload["fileWorkflowId"]

    assert Build.model_validate(payload).workflow_id is None


def test_build_id_from_underscore_id() -> None:
    assert Build.model_validate(build_json()).id == BUILD_ID


def test_build_null_artefacts_empty_list() -> None:
    assert Build.model_validate(build_json(artefacts=None)).artefacts == []


def test_build_missing_artefacts_empty_list() -> None:
    payload = build_json()
    del payload["artefacts"]

    assert Build.model_validate(payload).artefacts == []


def test_build_null_labels_empty_list() -> None:
    assert Build.model_validate(build_json(labels=None)).labels == []


@pytest.mark.parametrize("version", ["", "  ", None], ids=["empty", "blank", "null"])
def test_build_version_missing_is_none(version: str | None) -> None:
    assert Build.model_validate(build_json(version=version)).version is None


def test_build_version_kept() -> None:
    assert Build.model_validate(build_json(version="1.0.2")).version == "1.0.2"


def test_build_tag_build_null_branch() -> None:
    build = Build.model_validate(build_json(branch=None, tag="v1.2.0"))

    assert build.branch is None
    assert build.tag == "v1.2.0"


def test_build_timestamps_aware() -> None:
    build = Build.model_validate(
        build_json(
            createdAt="2020-09-08T07:17:58.101+0000",
            startedAt="2023-02-03T10:15:45+00:00",
            finishedAt="2026-08-30T11:54:40.088000Z",
        )
    )

    assert build.created_at == datetime(2020, 9, 8, 7, 17, 58, 101000, tzinfo=UTC)
    assert build.started_at == datetime(2023, 2, 3, 10, 15, 45, tzinfo=UTC)
    assert build.finished_at == datetime(2026, 8, 30, 11, 54, 40, 88000, tzinfo=UTC)


def test_build_null_started_at_while_queued() -> None:
    assert Build.model_validate(build_json(status="queued", startedAt=None)).started_at is None


def test_build_invalid_timestamp_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="startedAt"):
        Build.model_validate(build_json(startedAt="last tuesday"))


def test_build_unknown_status_kept() -> None:
    assert Build.model_validate(build_json(status="hibernating")).status == "hibernating"


def test_build_unknown_fields_ignored() -> None:
    build = Build.model_validate(
        build_json(buildActions=[{"_id": "x", "name": "Building"}], newFieldFrom2030={"a": 1})
    )

    assert build.id == BUILD_ID


def test_build_artefacts_parsed() -> None:
    payload = build_json(
        status="finished",
        artefacts=[
            {
                "md5": "81298e2f39a0e2d401b583f4f32d88d1",
                "name": "app-debug.apk",
                "packageName": "io.codemagic.counter-flutter",
                "package_name": "io.codemagic.counter-flutter",
                "size": 59325441,
                "type": "apk",
                "url": "https://api.codemagic.io/artifacts/2667d83f/d44b59f6/app-debug.apk",
                "versionName": "1.0.2",
                "version_code": 3,
            }
        ],
    )

    artefact = Build.model_validate(payload).artefacts[0]

    assert artefact == Artefact(
        name="app-debug.apk",
        type="apk",
        url="https://api.codemagic.io/artifacts/2667d83f/d44b59f6/app-debug.apk",
        md5="81298e2f39a0e2d401b583f4f32d88d1",
        size=59325441,
        version_name="1.0.2",
        package_name="io.codemagic.counter-flutter",
    )


def test_build_is_terminal_property() -> None:
    assert Build.model_validate(build_json(status="warning")).is_terminal


def test_build_is_terminal_false_while_building() -> None:
    assert not Build.model_validate(build_json(status="building")).is_terminal


def test_build_is_success_default_accepts_warning() -> None:
    assert Build.model_validate(build_json(status="warning")).is_success()


def test_build_is_success_custom_statuses() -> None:
    build = Build.model_validate(build_json(status="warning"))

    assert not build.is_success(frozenset({"finished"}))


def test_build_page_url_property() -> None:
    build = Build.model_validate(build_json())

    assert build.page_url == f"https://codemagic.io/app/{APP_ID}/build/{BUILD_ID}"


def test_build_page_url_helper_quotes() -> None:
    assert build_page_url("a/b", "c d") == "https://codemagic.io/app/a%2Fb/build/c%20d"


def test_build_round_trip_by_name() -> None:
    build = Build.model_validate(build_json(status="finished"))

    assert Build.model_validate(build.model_dump()) == build


def test_build_round_trip_by_alias_json() -> None:
    build = Build.model_validate(build_json(status="finished"))

    assert Build.model_validate_json(build.model_dump_json(by_alias=True)) == build


def test_build_envelope_copies_app_id() -> None:
    # The documented GET /builds/:id example has no appId inside "build".
    envelope = BuildEnvelope.model_validate(
        {
            "application": {"_id": APP_ID, "appName": "counter_flutter"},
            "build": {"_id": BUILD_ID, "status": "building", "workflowId": "wf"},
        }
    )

    assert envelope.build.app_id == APP_ID


def test_build_envelope_keeps_build_app_id() -> None:
    envelope = BuildEnvelope.model_validate(build_envelope(build_json(appId="other")))

    assert envelope.build.app_id == "other"


def test_build_list_page_next_page_url() -> None:
    page = BuildListPage.model_validate(
        {"applications": [], "builds": [build_json()], "nextPageUrl": "/builds?skip=30"}
    )

    assert page.next_page_url == "/builds?skip=30"


# Credentials in replies


@pytest.mark.parametrize("field", ["vnc_access", "ssh_access", "ssh_access_enabled"])
def test_build_has_no_credential_fields(field: str) -> None:
    assert field not in Build.model_fields


def test_build_drops_vnc_and_ssh_credentials() -> None:
    build = Build.model_validate(_build_with_credentials())
    texts = [
        repr(build),
        str(build),
        build.model_dump_json(),
        build.model_dump_json(by_alias=True),
        json.dumps(build.model_dump(mode="json")),
    ]

    for text in texts:
        assert VNC_PASSWORD not in text
        assert SSH_SCRIPT_URL not in text


def test_build_envelope_drops_app_environment_variables() -> None:
    envelope = BuildEnvelope.model_validate(
        {"application": _application_with_credentials(), "build": _build_with_credentials()}
    )
    text = envelope.model_dump_json() + repr(envelope)

    assert APP_SECRET not in text
    assert VNC_PASSWORD not in text


def test_application_drops_secrets() -> None:
    application = Application.model_validate(_application_with_credentials())

    assert APP_SECRET not in application.model_dump_json() + repr(application)


@pytest.mark.parametrize("field", ["app_environment_variables", "workflows"])
def test_application_has_no_secret_fields(field: str) -> None:
    assert field not in Application.model_fields


# Applications


def test_application_fields() -> None:
    application = Application.model_validate(
        {
            "_id": APP_ID,
            "appName": "counter_flutter",
            "archived": False,
            "projectType": "flutter-app",
            "settingsSource": "file",
            "lastBuildId": BUILD_ID,
            "workflowIds": None,
            "branches": ["main", "develop"],
            "ownerTeam": {"_id": "team"},
        }
    )

    assert application.id == APP_ID
    assert application.app_name == "counter_flutter"
    assert application.settings_source == "file"
    assert application.workflow_ids == []
    assert application.branches == ["main", "develop"]


def test_application_list_null() -> None:
    assert ApplicationList.model_validate({"applications": None}).applications == []


# Public URLs


def test_public_url_parses_iso_expiry() -> None:
    public = PublicUrl.model_validate(
        {"url": "https://api.codemagic.io/artifacts/.abc", "expiresAt": "2026-01-01T00:00:00+00:00"}
    )

    assert public.url == "https://api.codemagic.io/artifacts/.abc"
    assert public.expires_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_public_url_rejects_naive_datetime() -> None:
    with pytest.raises(pydantic.ValidationError, match="no time zone"):
        PublicUrl(url="https://x", expires_at=datetime(2026, 1, 1))


# Environment and start requests


def test_environment_flat_map_rejected() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        BuildEnvironment.model_validate({"GITHUB_TAG": "v1.2.0"})

    message = str(caught.value)
    assert "GITHUB_TAG" in message
    assert '{"variables": {"GITHUB_TAG": "..."}}' in message


def test_environment_flat_map_value_not_echoed() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        BuildEnvironment.model_validate({"API_SECRET": "s3cr3t-value-fake"})

    assert "s3cr3t-value-fake" not in str(caught.value)


def test_environment_flat_map_rejected_inside_request() -> None:
    with pytest.raises(pydantic.ValidationError, match='under "variables"'):
        StartBuildRequest.model_validate(
            {
                "appId": APP_ID,
                "workflowId": "ios-release",
                "branch": "main",
                "environment": {"GITHUB_TAG": "v1.2.0"},
            }
        )


def test_environment_non_string_value_not_echoed() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        BuildEnvironment(variables={"PORT": 8080})  # type: ignore[dict-item]

    assert "8080" not in str(caught.value)


def test_environment_empty_variable_name_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="must not be empty"):
        BuildEnvironment(variables={" ": "x"})


def test_environment_accepts_camel_and_snake_keys() -> None:
    camel = BuildEnvironment.model_validate({"softwareVersions": {"xcode": "15.4"}})
    snake = BuildEnvironment.model_validate({"software_versions": {"xcode": "15.4"}})

    assert camel == snake


def test_environment_json_body_full() -> None:
    environment = BuildEnvironment(
        variables={"A": "1"}, groups=["g1"], software_versions={"xcode": "15.4"}
    )

    assert environment.to_json_body() == {
        "variables": {"A": "1"},
        "groups": ["g1"],
        "softwareVersions": {"xcode": "15.4"},
    }


def test_start_request_json_body_variables_form() -> None:
    request = StartBuildRequest(
        app_id=APP_ID,
        workflow_id="ios-release",
        tag="v1.2.0",
        environment=BuildEnvironment(variables={"GITHUB_TAG": "v1.2.0"}),
    )

    assert request.to_json_body() == {
        "appId": APP_ID,
        "workflowId": "ios-release",
        "tag": "v1.2.0",
        "environment": {"variables": {"GITHUB_TAG": "v1.2.0"}},
    }


def test_start_request_json_body_all_fields() -> None:
    request = StartBuildRequest(
        app_id=APP_ID,
        workflow_id="release",
        branch="master",
        labels=["foo", "bar"],
        instance_type="mac_mini_m2",
        environment=BuildEnvironment(),
    )

    assert request.to_json_body() == {
        "appId": APP_ID,
        "workflowId": "release",
        "branch": "master",
        "labels": ["foo", "bar"],
        "instanceType": "mac_mini_m2",
    }


def test_start_request_from_camel_case_dict() -> None:
    request = StartBuildRequest.model_validate(
        {"appId": APP_ID, "workflowId": "release", "branch": "master", "instanceType": "linux_x2"}
    )

    assert request.instance_type == "linux_x2"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"branch": "main", "tag": "v1"}, "set only one of branch"),
        ({}, "set a branch or a tag"),
        ({"branch": " "}, "set a branch or a tag"),
    ],
    ids=["both", "neither", "blank-branch"],
)
def test_start_request_branch_or_tag(fields: dict[str, str], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        StartBuildRequest(app_id=APP_ID, workflow_id="release", **fields)


@pytest.mark.parametrize("field", ["app_id", "workflow_id"])
def test_start_request_empty_ids_rejected(field: str) -> None:
    values = {"app_id": APP_ID, "workflow_id": "release", field: ""}

    with pytest.raises(pydantic.ValidationError, match="must not be empty"):
        StartBuildRequest(branch="main", **values)


def test_start_request_with_label_appends() -> None:
    request = StartBuildRequest(app_id=APP_ID, workflow_id="w", branch="m", labels=["a"])

    assert request.with_label("b").labels == ["a", "b"]


def test_start_request_with_label_no_duplicate() -> None:
    request = StartBuildRequest(app_id=APP_ID, workflow_id="w", branch="m", labels=["a"])

    assert request.with_label("a").labels == ["a"]


def test_start_request_with_label_leaves_original() -> None:
    request = StartBuildRequest(app_id=APP_ID, workflow_id="w", branch="m")
    request.with_label("b")

    assert request.labels == []
