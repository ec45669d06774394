"""Fault injection: scripted and seeded faults, rate-limit headers, dropped connections."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import TOKEN, Api

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle, FaultSettings
from pulumi_codemagic.emulator.app import create_app
from pulumi_codemagic.emulator.middleware import EmulatorMiddleware
from pulumi_codemagic.emulator.server import EmulatorServer, build_emulator

START_BODY = {"appId": SAMPLE_APP_ID, "workflowId": "android-release", "branch": "main"}


def _outcome(api: Api, method: str = "GET", path: str = "/apps", **kwargs: object) -> str:
    try:
        return str(api.request(method, path, **kwargs).status_code)  # type: ignore[arg-type]
    except requests.ConnectionError:
        return "dropped"


def test_faults_off_by_default(api: Api, manual: EmulatorHandle) -> None:
    outcomes = [_outcome(api) for _ in range(20)]

    assert outcomes == ["200"] * 20
    assert manual.stats()["faults"]["error"] == 0


def test_scripted_faults_apply_in_order(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["error", "rate_limit", "drop", "drop_after", "ok"]})

    outcomes = [_outcome(api) for _ in range(6)]

    assert outcomes == ["503", "429", "dropped", "dropped", "200", "200"]


def test_seeded_faults_repeat(api: Api, manual: EmulatorHandle) -> None:
    settings = {"seed": 3, "errorRate": 0.3, "rateLimitRate": 0.2, "dropRate": 0.1}
    manual.set_faults(settings)
    first = [_outcome(api) for _ in range(25)]
    manual.set_faults(settings)
    second = [_outcome(api) for _ in range(25)]

    assert first == second
    assert {"200", "503", "429", "dropped"} <= set(first)


def test_seeded_faults_differ_by_seed(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"seed": 3, "errorRate": 0.5})
    first = [_outcome(api) for _ in range(25)]
    manual.set_faults({"seed": 4, "errorRate": 0.5})
    second = [_outcome(api) for _ in range(25)]

    assert first != second


def test_rate_limit_sends_both_header_styles(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["rate_limit"], "retryAfterSeconds": 7})

    response = api.get("/apps")

    assert response.status_code == 429
    assert int(response.headers["X-RateLimit-Reset"]) > 1_000_000_000
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["ratelimit-reset"] == "7"
    assert response.headers["ratelimit-remaining"] == "0"


def test_error_fault_is_503_json(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["error"]})

    response = api.get("/apps")

    assert response.status_code == 503
    assert response.json()["error"] == "Service Unavailable"


def test_drop_closes_without_answer(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["drop"]})

    with pytest.raises(requests.ConnectionError):
        api.post("/builds", json=START_BODY)
    assert manual.start_count == 0


def test_drop_after_starts_build(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["drop_after"]})

    with pytest.raises(requests.ConnectionError):
        api.post("/builds", json={**START_BODY, "labels": ["pulumi-op-1"]})
    assert manual.start_count == 1
    assert manual.builds()[0]["build"]["labels"][-1] == "pulumi-op-1"


def test_faults_limited_to_methods(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["error"], "methods": ["post"]})

    listed = api.get("/apps")
    started = api.post("/builds", json=START_BODY)

    assert listed.status_code == 200
    assert started.status_code == 503


def test_admin_routes_never_faulted(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"errorRate": 1.0})

    response = api.get("/_emulator/stats", token=None)

    assert response.status_code == 200


def test_fault_counts_in_stats(api: Api, manual: EmulatorHandle) -> None:
    manual.set_faults({"script": ["error", "drop"]})
    _outcome(api)
    _outcome(api)

    faults = manual.stats()["faults"]

    assert faults["error"] == 1
    assert faults["drop"] == 1


def test_faults_endpoint_roundtrip(api: Api) -> None:
    settings = {"errorRate": 0.25, "seed": 9, "methods": ["GET"]}

    put = api.request("PUT", "/_emulator/faults", token=None, json=settings)
    got = api.get("/_emulator/faults", token=None)
    deleted = api.request("DELETE", "/_emulator/faults", token=None)

    assert put.status_code == 200
    assert got.json()["errorRate"] == 0.25
    assert got.json()["methods"] == ["GET"]
    assert deleted.json()["errorRate"] == 0.0


def test_faults_endpoint_applies(api: Api) -> None:
    api.request("PUT", "/_emulator/faults", token=None, json={"script": ["error"]})

    assert api.get("/apps").status_code == 503


@pytest.mark.parametrize(
    "settings",
    [
        {"errorRate": 1.5},
        {"errorRate": 0.6, "dropRate": 0.6},
        {"errorRate": "high"},
        {"script": ["explode"]},
        {"latencySeconds": -1},
        {"retryAfterSeconds": 0},
        {"speed": 1},
    ],
    ids=[
        "rate-above-1",
        "sum-above-1",
        "rate-text",
        "unknown-kind",
        "negative-latency",
        "retry-after-0",
        "unknown-key",
    ],
)
def test_faults_endpoint_rejects_invalid(api: Api, settings: dict[str, object]) -> None:
    response = api.request("PUT", "/_emulator/faults", token=None, json=settings)

    assert response.status_code == 400


def test_latency_uses_injected_sleep() -> None:
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    state, _ = build_emulator(token=TOKEN, phase_seconds=None, faults=None)
    app = create_app(state, token=TOKEN)
    server = EmulatorServer(EmulatorMiddleware(app, state, app.router.routes, sleep=record_sleep))
    server.start()
    try:
        state.faults.configure(FaultSettings(latency_seconds=0.25))
        response = requests.get(
            f"{server.base_url}/apps", headers={"x-auth-token": TOKEN}, timeout=10
        )
    finally:
        server.stop()

    assert response.status_code == 200
    assert delays == [0.25]


def test_run_emulator_takes_fault_mapping() -> None:
    from pulumi_codemagic.emulator import run_emulator

    with run_emulator(token=TOKEN, phase_seconds=None, faults={"script": ["error"]}) as handle:
        response = requests.get(f"{handle.base_url}/apps", headers=handle.auth_headers, timeout=10)

    assert response.status_code == 503
