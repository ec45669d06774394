"""The client against the local Codemagic emulator: real HTTP on loopback, injected faults."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

pytest.importorskip("fastapi")

from pulumi_codemagic.client import CodemagicClient
from pulumi_codemagic.emulator import run_emulator
from pulumi_codemagic.emulator.server import EmulatorHandle
from pulumi_codemagic.errors import (
    BuildFailedError,
    BuildStartUncertainError,
    TokenRejectedError,
)
from pulumi_codemagic.models import BuildEnvironment, CancelResult, StartBuildRequest
from pulumi_codemagic.waiting import wait_for_build

APP_ID = "64f1c2a9e4b0d2a1c3b5e701"
TOKEN = "cm-fake-token-emulator-0001"
REQUEST = StartBuildRequest(
    app_id=APP_ID,
    workflow_id="android-release",
    branch="main",
    environment=BuildEnvironment(variables={"GITHUB_TAG": "v1.2.0"}),
)


@pytest.fixture
def emulator() -> Iterator[EmulatorHandle]:
    with run_emulator(token=TOKEN, phase_seconds=None) as handle:
        yield handle


def _client(handle: EmulatorHandle, **options: object) -> CodemagicClient:
    return CodemagicClient(
        token=handle.token,
        base_url=handle.base_url,
        sleep=lambda seconds: None,
        timeout_seconds=5.0,
        **options,  # type: ignore[arg-type]
    )


def _finish(handle: EmulatorHandle, build_id: str, status: str = "finished") -> None:
    handle.force_status(build_id, status)


def test_emulator_start_wait_download(emulator: EmulatorHandle, tmp_path: Path) -> None:
    with _client(emulator) as client:
        build_id = client.start_build(REQUEST)
        _finish(emulator, build_id)
        build = wait_for_build(
            client, build_id, timeout_seconds=10, clock=lambda: 0.0, sleep=lambda s: None
        )
        artefact = build.artefacts[0]
        path = client.download_artefact(artefact, tmp_path)

    assert build.workflow_id == "android-release"
    assert path.read_bytes() != b""
    assert hashlib.md5(path.read_bytes()).hexdigest() == artefact.md5
    assert emulator.start_count == 1


def test_emulator_public_url(emulator: EmulatorHandle) -> None:
    with _client(emulator) as client:
        build_id = client.start_build(REQUEST)
        _finish(emulator, build_id)
        artefact = client.get_build(build_id).artefacts[0]
        expiry = datetime.now(timezone.utc) + timedelta(days=1)
        public = client.create_public_url(artefact.url, expires_at=expiry)
        response = requests.get(public.url, timeout=5)

    assert response.status_code == 200
    assert hashlib.md5(response.content).hexdigest() == artefact.md5


def test_emulator_cancel_twice(emulator: EmulatorHandle) -> None:
    with _client(emulator) as client:
        build_id = client.start_build(REQUEST)
        first = client.cancel_build(build_id)
        second = client.cancel_build(build_id)
        with pytest.raises(BuildFailedError, match="'canceled'"):
            wait_for_build(
                client, build_id, timeout_seconds=10, clock=lambda: 0.0, sleep=lambda s: None
            )

    assert first is CancelResult.CANCELED
    assert second is CancelResult.ALREADY_FINISHED


def test_emulator_list_builds_filters(emulator: EmulatorHandle) -> None:
    with _client(emulator) as client:
        started = {client.start_build(REQUEST) for _ in range(3)}
        listed = {build.id for build in client.list_builds(app_id=APP_ID, branch="main")}

    assert started <= listed


def test_emulator_wrong_token(emulator: EmulatorHandle) -> None:
    client = CodemagicClient(token="cm-fake-token-wrong-0002", base_url=emulator.base_url)

    with pytest.raises(TokenRejectedError) as caught:
        client.start_build(REQUEST)

    assert "cm-fake-token-wrong-0002" not in str(caught.value)
    assert emulator.start_count == 0


@pytest.mark.parametrize(
    "script",
    [
        ["drop_after"],
        ["drop"],
        ["error"],
        ["rate_limit"],
        ["drop_after", "ok", "drop_after"],
        ["error", "ok", "drop", "ok", "rate_limit"],
    ],
    ids=[
        "handled-then-dropped",
        "dropped-before-handling",
        "503",
        "429",
        "dropped-twice",
        "mixed",
    ],
)
def test_emulator_faulty_start_one_build(emulator: EmulatorHandle, script: list[str]) -> None:
    # Faults apply to POST only, so the lookups by label see the true state.
    emulator.set_faults({"script": script, "methods": ["POST"], "retryAfterSeconds": 1})

    with _client(emulator) as client:
        build_id = client.start_build(REQUEST)

    assert emulator.start_count == 1
    assert [build["build"]["_id"] for build in emulator.builds()] == [build_id]


def test_emulator_random_faults_no_duplicates(emulator: EmulatorHandle) -> None:
    # Faults hit the lookups too, so a start may end undecided; it must never duplicate.
    emulator.set_faults(
        {
            "errorRate": 0.15,
            "rateLimitRate": 0.15,
            "dropRate": 0.1,
            "dropAfterRate": 0.15,
            "seed": 7,
            "retryAfterSeconds": 1,
        }
    )
    started: list[str] = []
    undecided = 0

    with _client(emulator, max_retries=8) as client:
        for _ in range(20):
            try:
                started.append(client.start_build(REQUEST))
            except BuildStartUncertainError:
                undecided += 1

    emulator.set_faults(None)
    created = [build["build"]["_id"] for build in emulator.builds()]
    assert len(set(started)) == len(started)
    assert set(started) <= set(created)
    assert len(created) <= len(started) + undecided
    assert emulator.start_count == len(created)
