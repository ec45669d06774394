"""Shared fakes for the provider tests: a fake clock, API payloads and a configured provider."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import responses
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_codemagic.client import CodemagicClient
from pulumi_codemagic.provider import BuildProvider
from pulumi_codemagic.validation import check_build_inputs

FAKE_TOKEN = "cm-fake-token-PROVIDER-7f3a"
API = "https://codemagic-api.invalid"
APP_ID = "64f0a1b2c3d4e5f6a7b8c9d0"
BUILD_ID = "65aa00112233445566778899"
BUILD_URL = f"https://codemagic.io/app/{APP_ID}/build/{BUILD_ID}"
NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
"""Wall-clock time the provider gets from its injected clock; public URL expiries count from it."""


class FakeClock:
    """A monotonic clock that only moves when ``sleep`` is called."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.seconds += seconds


def make_provider(
    clock: FakeClock,
    lines: list[str],
    *,
    config: dict[str, Any] | None = None,
) -> BuildProvider:
    """Return a provider with fake time, collected progress lines and the given config."""

    def client_factory(**options: Any) -> CodemagicClient:
        return CodemagicClient(random=lambda: 0.0, **options)

    provider = BuildProvider(
        clock=clock.monotonic,
        sleep=clock.sleep,
        now=lambda: NOW,
        client_factory=client_factory,
        emit=lines.append,
    )
    if config is None:
        config = {"codemagic:token": FAKE_TOKEN, "codemagic:apiUrl": API}
    provider.configure(ConfigureRequest(Config(config, "tests")))
    return provider


def inputs(**overrides: Any) -> dict[str, Any]:
    """Return checked Build inputs for a branch build, with ``overrides`` applied."""
    news = {"app_id": APP_ID, "workflow_id": "android-release", "branch": "main", **overrides}
    result = check_build_inputs(news)
    assert result.failures == []
    return result.inputs


def artefact_json(name: str, **fields: Any) -> dict[str, Any]:
    """Return a legacy artefact object as Codemagic sends it."""
    artefact: dict[str, Any] = {
        "name": name,
        "type": name.rsplit(".", 1)[-1],
        "url": f"{API}/artifacts/1111-aaaa/2222-bbbb/{name}",
        "md5": "81298e2f39a0e2d401b583f4f32d88d1",
        "size": 59325441,
        "versionName": "1.0.2",
        "packageName": "io.codemagic.sample",
    }
    artefact.update(fields)
    return artefact


def build_json(status: str, build_id: str = BUILD_ID, **fields: Any) -> dict[str, Any]:
    """Return a legacy build object with ``status``, and ``fields`` overriding keys."""
    terminal = status in {"finished", "warning", "failed", "canceled", "timeout", "skipped"}
    build: dict[str, Any] = {
        "_id": build_id,
        "appId": APP_ID,
        "workflowId": None,
        "fileWorkflowId": "android-release",
        "index": 48,
        "status": status,
        "message": None,
        "branch": "main",
        "tag": None,
        "labels": [],
        "instanceType": "linux_x2",
        "createdAt": "2026-01-15T12:00:00.101+0000",
        "startedAt": None if status == "queued" else "2026-01-15T12:00:05.203+0000",
        "finishedAt": "2026-01-15T12:09:13.040+0000" if terminal else None,
        "artefacts": None,
    }
    build.update(fields)
    return build


def envelope(build: dict[str, Any]) -> dict[str, Any]:
    """Return the ``GET /builds/:id`` reply for ``build``."""
    return {"application": {"_id": APP_ID, "appName": "sample"}, "build": build}


def add_get(api: responses.RequestsMock, build: dict[str, Any]) -> None:
    api.get(f"{API}/builds/{build['_id']}", json=envelope(build))


def add_start(api: responses.RequestsMock, build_id: str = BUILD_ID) -> None:
    api.post(f"{API}/builds", json={"buildId": build_id})
