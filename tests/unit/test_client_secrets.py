"""The API token and environment variable values never reach logs, reprs or error texts."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import responses
from client_fakes import API, APP_ID, BUILD_ID, FAKE_TOKEN, build_envelope, build_json, make_client
from responses.registries import OrderedRegistry

from pulumi_codemagic.client import CodemagicClient
from pulumi_codemagic.errors import CodemagicError
from pulumi_codemagic.models import Artefact, BuildEnvironment, StartBuildRequest
from pulumi_codemagic.waiting import wait_for_build

SECRET_VALUE = "s3cr3t-signing-password-fake"
LABEL = "pulumi-codemagic-start-0123456789abcdef0123456789abcdef"
REQUEST = StartBuildRequest(
    app_id=APP_ID,
    workflow_id="ios-release",
    branch="main",
    environment=BuildEnvironment(variables={"SIGNING_PASSWORD": SECRET_VALUE}),
)
# A reply that repeats what the client sent. Only replies to a start can repeat variable values.
ECHO = f'{{"error": "bad token {FAKE_TOKEN} for variables {{SIGNING_PASSWORD: {SECRET_VALUE}}}"}}'
TOKEN_ECHO = f'{{"error": "bad token {FAKE_TOKEN}"}}'


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


def _start_rejected(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    rsps.post(f"{API}/builds", status=401, body=ECHO)
    client.start_build(REQUEST)


def _start_bad_request(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    rsps.post(f"{API}/builds", status=400, body=ECHO)
    client.start_build(REQUEST)


def _start_uncertain(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    rsps.post(f"{API}/builds", body=requests.exceptions.ReadTimeout(f"read {FAKE_TOKEN}"))
    rsps.get(f"{API}/builds", status=403, body=TOKEN_ECHO)
    client.start_build(REQUEST, idempotency_label=LABEL)


def _start_server_errors(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    for _ in range(5):
        rsps.post(f"{API}/builds", status=500, body=ECHO)
        rsps.get(f"{API}/builds", json={"builds": [], "nextPageUrl": None})
    client.start_build(REQUEST, idempotency_label=LABEL)


def _get_build_not_found(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=404, body=TOKEN_ECHO)
    client.get_build(BUILD_ID)


def _get_build_timeouts(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    for _ in range(5):
        rsps.get(f"{API}/builds/{BUILD_ID}", body=requests.ConnectionError("reset"))
    client.get_build(BUILD_ID)


def _wait_canceled(rsps: responses.RequestsMock, client: CodemagicClient) -> None:
    rsps.get(f"{API}/builds/{BUILD_ID}", status=429, body=TOKEN_ECHO)
    rsps.get(f"{API}/builds/{BUILD_ID}", json=build_envelope(build_json(status="canceled")))
    wait_for_build(client, BUILD_ID, timeout_seconds=60, clock=lambda: 0.0, sleep=lambda s: None)


SCENARIOS: dict[str, Callable[[responses.RequestsMock, CodemagicClient], None]] = {
    "start-rejected": _start_rejected,
    "start-bad-request": _start_bad_request,
    "start-uncertain": _start_uncertain,
    "start-server-errors": _start_server_errors,
    "get-build-not-found": _get_build_not_found,
    "get-build-timeouts": _get_build_timeouts,
    "wait-canceled": _wait_canceled,
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_secrets_absent_from_errors_and_logs(
    rsps: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    scenario: Callable[[responses.RequestsMock, CodemagicClient], None],
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()

    with pytest.raises(CodemagicError) as caught:
        scenario(rsps, client)

    texts = {
        "message": str(caught.value),
        "repr": repr(caught.value),
        "attributes": repr(vars(caught.value)),
        "traceback": "".join(traceback.format_exception(caught.value)),
        "logs": caplog.text,
        "client": repr(client),
    }
    for name, text in texts.items():
        assert FAKE_TOKEN not in text, name
        assert SECRET_VALUE not in text, name


def test_secrets_absent_from_download_errors(
    rsps: responses.RequestsMock, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"{API}/artifacts/a/b/app.apk"
    rsps.get(url, status=302, headers={"Location": "https://storage.example.net/f"})
    rsps.get("https://storage.example.net/f", status=403, body=TOKEN_ECHO)

    with pytest.raises(CodemagicError) as caught:
        make_client().download_artefact(Artefact(name="app.apk", url=url), tmp_path)

    assert FAKE_TOKEN not in str(caught.value)
    assert FAKE_TOKEN not in caplog.text
    assert "[REDACTED]" in str(caught.value)


def test_secret_echo_replaced(rsps: responses.RequestsMock) -> None:
    rsps.post(f"{API}/builds", status=400, body=ECHO)

    with pytest.raises(CodemagicError) as caught:
        make_client().start_build(REQUEST)

    assert "bad token [REDACTED] for variables {SIGNING_PASSWORD: [REDACTED]}" in str(caught.value)
