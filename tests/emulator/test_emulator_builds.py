"""Starting and reading builds: request validation and the legacy JSON shapes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from emulator_helpers import Api

from pulumi_codemagic.emulator import FAKE_VNC_PASSWORD, SAMPLE_APP_ID, EmulatorHandle

LEGACY_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
VALID = {"appId": SAMPLE_APP_ID, "workflowId": "android-release", "branch": "main"}


def _without(key: str) -> dict[str, Any]:
    return {name: value for name, value in VALID.items() if name != key}


INVALID_BODIES = [
    pytest.param(_without("appId"), "appId is required", id="missing-app-id"),
    pytest.param({**VALID, "appId": ""}, "appId is required", id="empty-app-id"),
    pytest.param({**VALID, "appId": 5}, "Invalid appId", id="numeric-app-id"),
    pytest.param(_without("workflowId"), "workflowId is required", id="missing-workflow-id"),
    pytest.param(_without("branch"), "Either branch or tag is required", id="no-branch-or-tag"),
    pytest.param(
        {**VALID, "tag": "v1.0.0"}, "Specify either branch or tag, not both", id="branch-and-tag"
    ),
    pytest.param(
        {**VALID, "environment": {"vars": {"A": "1"}}}, "Invalid environment", id="env-unknown-key"
    ),
    pytest.param(
        {**VALID, "environment": {"variables": {"A": 1}}},
        "Invalid environment",
        id="env-variable-not-string",
    ),
    pytest.param(
        {**VALID, "environment": {"groups": "secrets"}}, "Invalid environment", id="env-groups-str"
    ),
    pytest.param({**VALID, "environment": []}, "Invalid environment", id="env-not-object"),
    pytest.param({**VALID, "labels": "nightly"}, "Invalid labels", id="labels-not-list"),
    pytest.param({**VALID, "instanceType": 2}, "Invalid instanceType", id="instance-type-number"),
]


@pytest.mark.parametrize("body, error", INVALID_BODIES)
def test_start_rejects_invalid_body(
    api: Api, manual: EmulatorHandle, body: Any, error: str
) -> None:
    response = api.post("/builds", json=body)

    assert response.status_code == 400
    assert response.json()["error"] == error
    assert manual.start_count == 0


@pytest.mark.parametrize(
    "data", [b"", b"not json", b"[1, 2]"], ids=["empty", "not-json", "json-list"]
)
def test_start_rejects_non_object_body(api: Api, data: bytes) -> None:
    response = api.post("/builds", data=data, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid request body"


def test_start_unknown_app_is_forbidden(api: Api) -> None:
    response = api.post("/builds", json={**VALID, "appId": "0123456789abcdef01234567"})

    assert response.status_code == 403
    assert response.json()["error"] == "Forbidden"


def test_start_unknown_workflow_is_rejected(api: Api) -> None:
    response = api.post("/builds", json={**VALID, "workflowId": "Android release"})

    assert response.status_code == 400
    assert response.json()["error"] == "Workflow not found"
    assert "'Android release'" in response.json()["message"]


def test_start_returns_build_id(api: Api, manual: EmulatorHandle) -> None:
    response = api.post("/builds", json=VALID)

    assert response.status_code == 200
    assert set(response.json()) == {"buildId"}
    assert OBJECT_ID.match(response.json()["buildId"])
    assert manual.start_count == 1


def test_start_ignores_unknown_top_level_key(api: Api) -> None:
    response = api.post("/builds", json={**VALID, "priority": "high"})

    assert response.status_code == 200


def test_start_accepts_tag(api: Api) -> None:
    build_id = api.start(branch=None, tag="v1.4.2")

    build = api.build(build_id)

    assert build["tag"] == "v1.4.2"
    assert build["branch"] is None


def test_get_build_has_envelope(api: Api) -> None:
    build_id = api.start()

    body = api.get(f"/builds/{build_id}").json()

    assert set(body) == {"application", "build"}
    assert body["application"]["_id"] == SAMPLE_APP_ID
    assert body["application"]["appName"] == "acme_shop"


def test_get_build_queued_shape(api: Api) -> None:
    build = api.build(api.start())

    assert OBJECT_ID.match(build["_id"])
    assert build["appId"] == SAMPLE_APP_ID
    assert build["workflowId"] is None
    assert build["fileWorkflowId"] == "android-release"
    assert build["status"] == "queued"
    assert build["index"] == 1
    assert build["message"] is None
    assert build["startedAt"] is None
    assert build["finishedAt"] is None
    assert LEGACY_TIMESTAMP.match(build["createdAt"])
    assert build["artefacts"] == []
    assert build["commit"] is None
    assert build["version"] is None
    assert build["config"]["name"] == "Android release"


def test_get_build_has_fields_to_ignore(api: Api) -> None:
    body = api.get(f"/builds/{api.start()}").json()

    assert body["build"]["vncAccess"]["password"] == FAKE_VNC_PASSWORD
    assert "scriptUrl" in body["build"]["sshAccess"]
    assert body["build"]["buildActions"][0]["name"] == "Preparing build machine"
    secrets = [item["value"] for item in body["application"]["appEnvironmentVariables"]]
    assert all(value.startswith("emulator-fake-") for value in secrets)


def test_get_build_unknown_id_is_404(api: Api) -> None:
    response = api.get("/builds/0123456789abcdef01234567")

    assert response.status_code == 404
    assert response.json() == {
        "error": "NOT_FOUND",
        "message": "The requested URL was not found on the server.",
    }


def test_build_labels_add_to_yaml_labels(api: Api) -> None:
    build = api.build(api.start(labels=["pulumi-abc123", "release"]))

    assert build["labels"] == ["android", "release", "pulumi-abc123"]


def test_build_instance_type_override(api: Api) -> None:
    default = api.build(api.start())
    override = api.build(api.start(instanceType="mac_mini_m2"))

    assert default["instanceType"] == "linux_x2"
    assert override["instanceType"] == "mac_mini_m2"


def test_build_software_versions_override(api: Api) -> None:
    environment = {"softwareVersions": {"flutter": "3.19.6"}, "variables": {"A": "1"}}

    build = api.build(api.start(environment=environment))

    assert build["config"]["buildSettings"]["flutterVersion"] == "3.19.6"


def test_build_index_counts_per_app(api: Api) -> None:
    first = api.build(api.start())
    second = api.build(api.start(workflowId="ios-release"))

    assert first["index"] == 1
    assert second["index"] == 2


def test_start_request_is_recorded(api: Api, manual: EmulatorHandle) -> None:
    body = {**VALID, "labels": ["x"], "environment": {"variables": {"FLAVOR": "prod"}}}
    build_id = api.post("/builds", json=body).json()["buildId"]

    builds = manual.builds()

    assert [item["buildId"] for item in builds] == [build_id]
    assert builds[0]["startRequest"] == body


def test_step_log_is_plain_text(api: Api) -> None:
    build = api.build(api.start())
    step = build["buildActions"][1]

    response = api.get(step["logUrl"])

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "Fetching app sources" in response.text


def test_step_log_unknown_step_is_404(api: Api) -> None:
    response = api.get(f"/builds/{api.start()}/step/0123456789abcdef01234567")

    assert response.status_code == 404


def test_unknown_route_is_404(api: Api) -> None:
    response = api.get("/builds/detailed/artifacts")

    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"
