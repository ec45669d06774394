"""Shared fakes for the client tests: a fake token, a recording sleep and reply payloads."""

from __future__ import annotations

from typing import Any

from pulumi_codemagic.client import CodemagicClient

FAKE_TOKEN = "cm-fake-token-XXXX"
API = "https://api.codemagic.io"
APP_ID = "5c9c064185dd2310123b8e96"
BUILD_ID = "5fabc6414c483700143f4f92"
NOW = 1_767_000_000.0
"""UNIX time the fake clock returns: 2025-12-29T09:20:00Z."""


class RecordingSleep:
    """A ``sleep`` that returns at once and records each requested duration."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    sleep: RecordingSleep | None = None, *, random_fraction: float = 0.5, **options: Any
) -> CodemagicClient:
    """Return a client with the fake token, a recording sleep and fixed jitter and time."""
    return CodemagicClient(
        token=FAKE_TOKEN,
        sleep=sleep if sleep is not None else RecordingSleep(),
        random=lambda: random_fraction,
        now=lambda: NOW,
        **options,
    )


def build_json(build_id: str = BUILD_ID, status: str = "building", **fields: Any) -> dict[str, Any]:
    """Return a legacy build object as Codemagic sends it, with ``fields`` overriding keys."""
    build: dict[str, Any] = {
        "_id": build_id,
        "appId": APP_ID,
        "workflowId": None,
        "fileWorkflowId": "ios-release",
        "index": 48,
        "status": status,
        "message": None,
        "branch": "main",
        "tag": None,
        "labels": [],
        "instanceType": "mac_mini_m2",
        "version": "",
        "createdAt": "2020-09-08T07:17:58.101+0000",
        "startedAt": "2020-09-08T07:18:02.203+0000",
        "finishedAt": None,
        "artefacts": None,
    }
    build.update(fields)
    return build


def build_envelope(build: dict[str, Any]) -> dict[str, Any]:
    """Return the ``GET /builds/:id`` reply for ``build``."""
    return {"application": {"_id": APP_ID, "appName": "counter_flutter"}, "build": build}
