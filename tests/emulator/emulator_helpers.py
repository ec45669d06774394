"""Helpers for the emulator tests: the test token, a fake clock and a small API client."""

from __future__ import annotations

from typing import Any

import requests

from pulumi_codemagic.emulator import SAMPLE_APP_ID

TOKEN = "cm-fake-token-emulator-tests"
START_TIME = 1_767_225_600.0
"""2026-01-01T00:00:00Z, the fake clock's start."""


class FakeTime:
    """Time source for the emulator that moves only when a test sets it."""

    def __init__(self, now: float = START_TIME) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Api:
    """Small client for the emulator's HTTP API, with the test token by default."""

    def __init__(self, base_url: str, token: str = TOKEN) -> None:
        self.base_url = base_url
        self.token = token
        self.session = requests.Session()

    def request(
        self, method: str, path: str, *, token: str | None = "", **kwargs: Any
    ) -> requests.Response:
        """Send a request; token "" means the default token, None means no token."""
        headers = dict(kwargs.pop("headers", {}))
        sent_token = self.token if token == "" else token
        if sent_token is not None:
            headers["x-auth-token"] = sent_token
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        return self.session.request(method, url, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def start(self, **fields: Any) -> str:
        """Start a build (sample app, android-release, main unless overridden); return its id."""
        body = {"appId": SAMPLE_APP_ID, "workflowId": "android-release", "branch": "main"}
        body.update(fields)
        body = {key: value for key, value in body.items() if value is not None}
        response = self.post("/builds", json=body)
        assert response.status_code == 200, response.text
        build_id: str = response.json()["buildId"]
        return build_id

    def build(self, build_id: str) -> dict[str, Any]:
        """Return the ``build`` object of ``GET /builds/{id}``."""
        response = self.get(f"/builds/{build_id}")
        assert response.status_code == 200, response.text
        build: dict[str, Any] = response.json()["build"]
        return build

    def close(self) -> None:
        self.session.close()
