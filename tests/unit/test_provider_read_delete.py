"""Tests of BuildProvider.read (pulumi refresh) and BuildProvider.delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import responses
from provider_fakes import (
    API,
    BUILD_ID,
    BUILD_URL,
    add_get,
    artefact_json,
    build_json,
    inputs,
)

from pulumi_codemagic.errors import ServerError, TokenRejectedError
from pulumi_codemagic.provider import PROVIDER_KEY, BuildProvider

CANCEL_URL = f"{API}/builds/{BUILD_ID}/cancel"
APK = artefact_json("app-release.apk")


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def state(status: str = "building", **overrides: Any) -> dict[str, Any]:
    """Return stored outputs of a build created without waiting."""
    stored = inputs(wait_for_completion=False, triggers=["sha-1"])
    stored.update(
        {
            PROVIDER_KEY: "pickled-provider",
            "build_id": BUILD_ID,
            "status": status,
            "build_number": 48.0,
            "build_url": BUILD_URL,
            "message": None,
            "started_at": "2026-01-15T12:00:05.203000+00:00",
            "finished_at": None,
            "artefacts": [],
            "artefact_urls": {},
            "public_artefact_urls": {"old.apk": "https://example.invalid/.public"},
            "public_artefact_urls_expire_at": "2026-01-16T12:00:03+00:00",
        }
    )
    stored.update(overrides)
    return stored


# --- read ------------------------------------------------------------------------------------


def test_read_updates_status_and_artefacts(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_get(api, build_json("finished", artefacts=[APK]))

    result = provider.read(BUILD_ID, state())

    assert result.id == BUILD_ID
    assert result.outs is not None
    assert result.outs["status"] == "finished"
    assert result.outs["finished_at"] == "2026-01-15T12:09:13.040000+00:00"
    assert result.outs["artefact_urls"] == {"app-release.apk": APK["url"]}


def test_read_keeps_inputs_and_public_urls(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_get(api, build_json("finished", labels=["pulumi-codemagic-start-abc"]))

    outs = provider.read(BUILD_ID, state()).outs

    assert outs is not None
    assert outs["triggers"] == ["sha-1"]
    assert outs["labels"] == []
    assert outs["wait_for_completion"] is False
    assert outs["public_artefact_urls"] == {"old.apk": "https://example.invalid/.public"}
    assert PROVIDER_KEY not in outs


def test_read_without_state_fills_inputs(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_get(api, build_json("finished"))

    outs = provider.read(BUILD_ID, {PROVIDER_KEY: "pickled-provider"}).outs

    assert outs is not None
    assert outs["app_id"] == build_json("finished")["appId"]
    assert outs["workflow_id"] == "android-release"
    assert outs["branch"] == "main"
    assert outs["public_artefact_urls"] == {}


def test_read_missing_build_leaves_state(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    api.get(f"{API}/builds/{BUILD_ID}", status=404, json={"error": "NOT_FOUND"})

    result = provider.read(BUILD_ID, state())

    assert result.id is None
    assert result.outs == {}


def test_read_server_error_fails_refresh(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    api.get(f"{API}/builds/{BUILD_ID}", status=503)
    with pytest.raises(ServerError):
        provider.read(BUILD_ID, state())


def test_read_rejected_token_fails_refresh(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    api.get(f"{API}/builds/{BUILD_ID}", status=401)
    with pytest.raises(TokenRejectedError):
        provider.read(BUILD_ID, state())


# --- delete ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status_code",
    [200, 208, 404],
    ids=["canceled", "already-finished", "unknown-build"],
)
def test_delete_running_build_cancels(
    provider: BuildProvider, api: responses.RequestsMock, status_code: int
) -> None:
    cancel = api.post(CANCEL_URL, status=status_code)
    provider.delete(BUILD_ID, state("building"))
    assert cancel.call_count == 1


def test_delete_reports_cancel(
    provider: BuildProvider, api: responses.RequestsMock, lines: list[str]
) -> None:
    api.post(CANCEL_URL)
    provider.delete(BUILD_ID, state("queued"))
    assert lines == [f"Canceled Codemagic build {BUILD_ID}: {BUILD_URL}"]


@pytest.mark.parametrize(
    "status", ["finished", "warning", "failed", "canceled", "timeout", "skipped"]
)
def test_delete_ended_build_calls_nothing(provider: BuildProvider, status: str) -> None:
    with responses.RequestsMock():  # any HTTP request would fail the test
        provider.delete(BUILD_ID, state(status))


def test_delete_without_cancel_calls_nothing(provider: BuildProvider) -> None:
    with responses.RequestsMock():  # any HTTP request would fail the test
        provider.delete(BUILD_ID, state("building", cancel_on_delete=False))


def test_delete_unknown_status_cancels(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    cancel = api.post(CANCEL_URL)
    provider.delete(BUILD_ID, state("brand-new-status"))
    assert cancel.call_count == 1


def test_delete_server_error_fails(provider: BuildProvider, api: responses.RequestsMock) -> None:
    api.post(CANCEL_URL, status=500)
    with pytest.raises(ServerError):
        provider.delete(BUILD_ID, state("building"))
