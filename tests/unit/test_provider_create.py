"""Tests of BuildProvider.create: start, wait, outputs, public URLs, and the all-or-nothing rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from provider_fakes import (
    API,
    APP_ID,
    BUILD_ID,
    BUILD_URL,
    NOW,
    FakeClock,
    add_get,
    add_start,
    artefact_json,
    build_json,
    inputs,
    make_provider,
)
from responses.registries import OrderedRegistry

from pulumi_codemagic.errors import BuildFailedError, TokenRejectedError
from pulumi_codemagic.outputs import require_json_safe
from pulumi_codemagic.provider import BuildAbortedError, BuildProvider

CANCEL_URL = f"{API}/builds/{BUILD_ID}/cancel"
APK = artefact_json("app-release.apk")
AAB = artefact_json("app-release.aab", size=1234)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    """Mock HTTP that replies in registration order and fails on unused replies."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def add_public_url(api: responses.RequestsMock, artefact: dict[str, Any], url: str) -> None:
    api.post(
        artefact["url"] + "/public-url",
        json={"url": url, "expiresAt": "2026-01-16T12:00:03+00:00"},
    )


# --- success ---------------------------------------------------------------------------------


def test_create_waits_until_finished(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    add_get(api, build_json("queued"))
    add_get(api, build_json("building"))
    add_get(api, build_json("finished", artefacts=[APK]))

    result = provider.create(inputs())

    assert result.id == BUILD_ID
    assert result.outs is not None
    assert result.outs["status"] == "finished"


def test_create_returns_every_output(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    add_get(api, build_json("finished", artefacts=[APK, AAB]))

    outs = provider.create(inputs(labels=["release"])).outs

    assert outs == {
        **inputs(labels=["release"]),
        "build_id": BUILD_ID,
        "status": "finished",
        "build_number": 48,
        "build_url": BUILD_URL,
        "message": None,
        "started_at": "2026-01-15T12:00:05.203000+00:00",
        "finished_at": "2026-01-15T12:09:13.040000+00:00",
        "artefacts": [
            {
                "name": "app-release.apk",
                "type": "apk",
                "url": APK["url"],
                "md5": APK["md5"],
                "size": 59325441,
                "version_name": "1.0.2",
                "package_name": "io.codemagic.sample",
            },
            {
                "name": "app-release.aab",
                "type": "aab",
                "url": AAB["url"],
                "md5": AAB["md5"],
                "size": 1234,
                "version_name": "1.0.2",
                "package_name": "io.codemagic.sample",
            },
        ],
        "artefact_urls": {"app-release.apk": APK["url"], "app-release.aab": AAB["url"]},
        "public_artefact_urls": {},
        "public_artefact_urls_expire_at": None,
    }


def test_create_outputs_are_json_safe(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    add_get(api, build_json("finished", artefacts=[APK]))
    outs = provider.create(inputs()).outs
    require_json_safe(outs)
    assert json.loads(json.dumps(outs)) == outs


def test_create_sends_start_request(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    add_get(api, build_json("finished"))
    environment = {
        "variables": {"FLAVOR": "prod"},
        "groups": ["signing"],
        "software_versions": {"flutter": "3.24.0"},
    }

    provider.create(
        inputs(environment=environment, labels=["release"], instance_type="mac_mini_m2")
    )

    body = json.loads(api.calls[0].request.body)
    assert body["appId"] == APP_ID
    assert body["workflowId"] == "android-release"
    assert body["branch"] == "main"
    assert "tag" not in body
    assert body["environment"] == {
        "variables": {"FLAVOR": "prod"},
        "groups": ["signing"],
        "softwareVersions": {"flutter": "3.24.0"},
    }
    assert body["labels"][0] == "release"
    assert body["instanceType"] == "mac_mini_m2"


def test_create_reports_each_status_once(
    provider: BuildProvider, api: responses.RequestsMock, lines: list[str]
) -> None:
    add_start(api)
    for status in ("queued", "queued", "building", "building", "publishing", "finished"):
        add_get(api, build_json(status))

    provider.create(inputs())

    assert lines == [
        f"Codemagic build #48 of workflow android-release status: {status} ({BUILD_URL})"
        for status in ("queued", "building", "publishing", "finished")
    ]


def test_create_polls_with_injected_clock(
    provider: BuildProvider, api: responses.RequestsMock, clock: FakeClock
) -> None:
    add_start(api)
    for status in ("queued", "building", "building", "building", "finished"):
        add_get(api, build_json(status))

    provider.create(inputs(poll_interval_seconds=3))

    assert len(clock.sleeps) == 4
    assert max(clock.sleeps) <= 3


def test_create_accepts_warning_by_default(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("warning"))
    assert provider.create(inputs()).outs["status"] == "warning"  # type: ignore[index]


def test_create_without_waiting_reads_once(
    provider: BuildProvider, api: responses.RequestsMock, lines: list[str]
) -> None:
    add_start(api)
    add_get(api, build_json("queued"))

    outs = provider.create(inputs(wait_for_completion=False, public_artefact_url_ttl_hours=24)).outs

    assert outs is not None
    assert outs["status"] == "queued"
    assert outs["started_at"] is None
    assert outs["public_artefact_urls"] == {}
    expected = f"Codemagic build #48 of workflow android-release status: queued ({BUILD_URL})"
    assert lines == [expected]


# --- public URLs -----------------------------------------------------------------------------


def test_create_mints_public_urls(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    add_get(api, build_json("finished", artefacts=[APK, AAB]))
    add_public_url(api, APK, f"{API}/artifacts/.public-apk")
    add_public_url(api, AAB, f"{API}/artifacts/.public-aab")

    outs = provider.create(inputs(public_artefact_url_ttl_hours=24)).outs

    assert outs is not None
    assert outs["public_artefact_urls"] == {
        "app-release.apk": f"{API}/artifacts/.public-apk",
        "app-release.aab": f"{API}/artifacts/.public-aab",
    }
    assert outs["public_artefact_urls_expire_at"] == "2026-01-16T12:00:03+00:00"


def test_create_requests_expiry_from_ttl(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("finished", artefacts=[APK]))
    add_public_url(api, APK, f"{API}/artifacts/.public-apk")

    provider.create(inputs(public_artefact_url_ttl_hours=24))

    body = json.loads(api.calls[2].request.body)
    assert body == {"expiresAt": int(NOW.timestamp()) + 24 * 3600}


# --- failures after the start ----------------------------------------------------------------


def test_create_failed_build_raises_with_details(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("building"))
    add_get(api, build_json("failed", message="Step 5 script `Build Android` exited with 1"))

    with pytest.raises(BuildFailedError) as raised:
        provider.create(inputs())

    message = str(raised.value)
    assert "'failed'" in message
    assert "Step 5 script `Build Android` exited with 1" in message
    assert BUILD_URL in message


def test_create_failed_build_not_canceled(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("failed"))
    with pytest.raises(BuildFailedError):
        provider.create(inputs())
    assert [call.request.method for call in api.calls] == ["POST", "GET"]


def test_create_status_outside_success_fails(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("warning"))
    with pytest.raises(BuildFailedError, match="'warning'"):
        provider.create(inputs(success_statuses=["finished"]))


def test_create_deadline_cancels_build(clock: FakeClock, lines: list[str]) -> None:
    provider = make_provider(clock, lines)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as api:
        add_start(api)
        add_get(api, build_json("building"))
        cancel = api.post(CANCEL_URL)

        with pytest.raises(BuildAbortedError) as raised:
            provider.create(inputs(wait_timeout_minutes=1))

    assert cancel.call_count == 1
    assert "did not reach a final status within wait_timeout_minutes (1 min)" in str(raised.value)
    assert "its last status was 'building'" in str(raised.value)
    assert "Raise wait_timeout_minutes to wait longer." in str(raised.value)
    assert "cancel the build" not in str(raised.value)
    assert "The provider canceled the build" in str(raised.value)
    assert clock.seconds == 60


def test_create_read_error_cancels_build(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    api.get(f"{API}/builds/{BUILD_ID}", status=401, json={"error": "UNAUTHORIZED"})
    api.post(CANCEL_URL)

    with pytest.raises(BuildAbortedError) as raised:
        provider.create(inputs())

    assert isinstance(raised.value.__cause__, TokenRejectedError)
    assert raised.value.canceled is True


def test_create_public_url_error_cancels_build(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    add_start(api)
    add_get(api, build_json("finished", artefacts=[APK]))
    api.post(APK["url"] + "/public-url", status=400, json={"message": "expiresAt too far"})
    api.post(CANCEL_URL, status=208)

    with pytest.raises(BuildAbortedError) as raised:
        provider.create(inputs(public_artefact_url_ttl_hours=24))

    assert "expiresAt too far" in str(raised.value)
    assert "had already ended" in str(raised.value)


def test_create_failed_cancel_says_so(provider: BuildProvider, api: responses.RequestsMock) -> None:
    add_start(api)
    api.get(f"{API}/builds/{BUILD_ID}", status=401)
    api.post(CANCEL_URL, status=401)

    with pytest.raises(BuildAbortedError) as raised:
        provider.create(inputs())

    assert raised.value.canceled is False
    assert "may still be running: cancel it in Codemagic" in str(raised.value)


def test_create_interrupt_cancels_build(clock: FakeClock, api: responses.RequestsMock) -> None:
    def interrupt(line: str) -> None:
        raise KeyboardInterrupt

    provider = make_provider(clock, [])
    provider._emit = interrupt
    add_start(api)
    add_get(api, build_json("queued"))
    api.post(CANCEL_URL)

    with pytest.raises(KeyboardInterrupt):
        provider.create(inputs())


def test_create_start_rejection_needs_no_cancel(
    provider: BuildProvider, api: responses.RequestsMock
) -> None:
    api.post(f"{API}/builds", status=401, json={"error": "UNAUTHORIZED"})
    with pytest.raises(TokenRejectedError, match="pulumi config set --secret codemagic:token"):
        provider.create(inputs())
