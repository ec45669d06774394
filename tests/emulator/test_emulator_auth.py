"""Token checks on every API route of the emulator."""

from __future__ import annotations

import pytest
from emulator_helpers import Api

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle

API_ROUTES = [
    pytest.param("POST", "/builds", id="start-build"),
    pytest.param("GET", "/builds", id="list-builds"),
    pytest.param("GET", "/builds/{build_id}", id="get-build"),
    pytest.param("POST", "/builds/{build_id}/cancel", id="cancel-build"),
    pytest.param("GET", "/builds/{build_id}/step/{step_id}", id="step-log"),
    pytest.param("GET", "/apps", id="list-apps"),
    pytest.param("GET", f"/apps/{SAMPLE_APP_ID}", id="get-app"),
]

ARTEFACT_ROUTES = [
    pytest.param("GET", "{path}", id="download"),
    pytest.param("POST", "{path}/public-url", id="public-url"),
]


def _finished_build(api: Api, manual: EmulatorHandle) -> dict[str, object]:
    build_id = api.start()
    manual.advance(build_id, steps=10)
    return api.build(build_id)


@pytest.mark.parametrize("method, template", API_ROUTES)
@pytest.mark.parametrize("token", [None, "cm-fake-token-wrong"], ids=["missing", "wrong"])
def test_api_route_rejects_token(
    api: Api, manual: EmulatorHandle, method: str, template: str, token: str | None
) -> None:
    build = _finished_build(api, manual)
    steps = build["buildActions"]
    assert isinstance(steps, list)
    path = template.format(build_id=build["_id"], step_id=steps[0]["_id"])

    response = api.request(method, path, token=token, json={})

    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}


@pytest.mark.parametrize("method, template", ARTEFACT_ROUTES)
@pytest.mark.parametrize("token", [None, "cm-fake-token-wrong"], ids=["missing", "wrong"])
def test_artefact_route_forbids_token(
    api: Api, manual: EmulatorHandle, method: str, template: str, token: str | None
) -> None:
    build = _finished_build(api, manual)
    artefacts = build["artefacts"]
    assert isinstance(artefacts, list)
    url = template.format(path=artefacts[0]["url"])

    response = api.request(method, url, token=token, json={"expiresAt": 4_000_000_000})

    assert response.status_code == 403
    assert response.json()["error"] == "FORBIDDEN"
    assert response.json()["message"].startswith("You don't have the permission")


def test_admin_route_needs_no_token(api: Api) -> None:
    response = api.get("/_emulator/health", token=None)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_bearer_header_is_not_accepted(api: Api) -> None:
    response = api.get("/apps", token=None, headers={"Authorization": f"Bearer {api.token}"})

    assert response.status_code == 401
