"""Admin routes and handle methods: build listing, statistics, reset."""

from __future__ import annotations

from emulator_helpers import Api, FakeTime

from pulumi_codemagic.emulator import EmulatorHandle


def test_admin_builds_include_start_request(api: Api) -> None:
    build_id = api.start(labels=["a"])

    body = api.get("/_emulator/builds", token=None).json()

    assert [item["buildId"] for item in body["builds"]] == [build_id]
    assert body["builds"][0]["startRequest"]["labels"] == ["a"]
    assert body["builds"][0]["plannedOutcome"] == {"status": "finished", "message": None}
    assert body["builds"][0]["build"]["_id"] == build_id


def test_admin_build_detail(api: Api) -> None:
    build_id = api.start(branch="broken-build")

    detail = api.get(f"/_emulator/builds/{build_id}", token=None).json()

    assert detail["plan"] == ["queued", "preparing", "fetching", "building", "finishing", "failed"]
    assert detail["paused"] is False


def test_admin_build_unknown_is_404(api: Api) -> None:
    response = api.get("/_emulator/builds/0123456789abcdef01234567", token=None)

    assert response.status_code == 404


def test_stats_count_requests_by_route(api: Api) -> None:
    build_id = api.start()
    api.get(f"/builds/{build_id}")
    api.get(f"/builds/{build_id}")
    api.get("/apps", token=None)

    stats = api.get("/_emulator/stats", token=None).json()

    assert stats["buildsStarted"] == 1
    assert stats["requests"] == {
        "POST /builds": 1,
        "GET /builds/{build_id}": 2,
        "GET /apps": 1,
    }
    assert stats["responses"] == {"200": 3, "401": 1}


def test_stats_skip_admin_requests(api: Api) -> None:
    api.get("/_emulator/builds", token=None)

    stats = api.get("/_emulator/stats", token=None).json()

    assert stats["requests"] == {}


def test_stats_now_follows_fake_clock(api: Api, fake_time: FakeTime) -> None:
    fake_time.now += 61

    stats = api.get("/_emulator/stats", token=None).json()

    assert stats["now"] == "2026-01-01T00:01:01.000+0000"


def test_reset_endpoint_clears_everything(api: Api, manual: EmulatorHandle) -> None:
    api.start()
    manual.set_outcome("failed")
    manual.set_faults({"errorRate": 0.5})
    manual.set_phase_seconds(3)
    manual.advance_clock(30)

    response = api.post("/_emulator/reset", token=None)

    assert response.status_code == 200
    assert manual.builds() == []
    assert manual.start_count == 0
    assert len(manual.state.outcome_rules()) == 3
    assert manual.state.faults.settings.error_rate == 0.0
    assert manual.state.phase_seconds is None
    assert manual.stats()["now"] == "2026-01-01T00:00:00.000+0000"


def test_clock_endpoint_rejects_negative(api: Api) -> None:
    response = api.post("/_emulator/clock/advance", token=None, json={"seconds": -1})

    assert response.status_code == 400


def test_phase_seconds_endpoint_rejects_text(api: Api) -> None:
    response = api.request(
        "PUT", "/_emulator/phase-seconds", token=None, json={"phaseSeconds": "2"}
    )

    assert response.status_code == 400


def test_handle_build_detail(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()

    detail = manual.build(build_id)

    assert detail["build"]["status"] == "queued"
    assert detail["build"]["artefacts"] == []


def test_handle_auth_headers(manual: EmulatorHandle) -> None:
    assert manual.auth_headers == {"x-auth-token": manual.token}
