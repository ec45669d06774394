"""Status progression, outcomes, cancel and forced statuses."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, FakeTime

from pulumi_codemagic.emulator import SAMPLE_ANDROID_APP_ID, SAMPLE_APP_ID, EmulatorHandle

FULL_PLAN = ["preparing", "fetching", "building", "testing", "publishing", "finishing", "finished"]


def test_manual_mode_holds_status(api: Api, fake_time: FakeTime) -> None:
    build_id = api.start()
    fake_time.now += 3600

    assert api.build(build_id)["status"] == "queued"


def test_manual_advance_walks_every_status(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    seen = []
    for _ in FULL_PLAN:
        manual.advance(build_id)
        seen.append(api.build(build_id)["status"])

    assert seen == FULL_PLAN


def test_advance_stops_at_terminal(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()

    manual.advance(build_id, steps=50)

    assert api.build(build_id)["status"] == "finished"
    assert manual.advance(build_id) == []


def test_advance_endpoint_moves_all_builds(api: Api) -> None:
    first, second = api.start(), api.start()

    response = api.post("/_emulator/advance", token=None, json={"steps": 2})

    assert sorted(response.json()["advanced"]) == sorted([first, second])
    assert api.build(first)["status"] == "fetching"
    assert api.build(second)["status"] == "fetching"


@pytest.mark.parametrize(
    "body",
    [{"steps": 0}, {"steps": "2"}, {"buildId": 5}],
    ids=["zero-steps", "string-steps", "numeric-id"],
)
def test_advance_endpoint_rejects_invalid_body(api: Api, body: dict[str, object]) -> None:
    response = api.post("/_emulator/advance", token=None, json=body)

    assert response.status_code == 400


def test_advance_endpoint_unknown_build_is_404(api: Api) -> None:
    response = api.post(
        "/_emulator/advance", token=None, json={"buildId": "0123456789abcdef01234567"}
    )

    assert response.status_code == 404


def test_timed_mode_follows_clock(api: Api, manual: EmulatorHandle, fake_time: FakeTime) -> None:
    manual.set_phase_seconds(10)
    build_id = api.start()
    seen = []
    for _ in FULL_PLAN:
        fake_time.now += 10
        seen.append(api.build(build_id)["status"])

    assert seen == FULL_PLAN


def test_timed_mode_timestamps_match_boundaries(
    api: Api, manual: EmulatorHandle, fake_time: FakeTime
) -> None:
    manual.set_phase_seconds(10)
    build_id = api.start()
    fake_time.now += 500

    build = api.build(build_id)

    assert build["createdAt"] == "2026-01-01T00:00:00.000+0000"
    assert build["startedAt"] == "2026-01-01T00:00:10.000+0000"
    assert build["finishedAt"] == "2026-01-01T00:01:10.000+0000"


def test_started_at_set_when_preparing(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()

    manual.advance(build_id)

    assert api.build(build_id)["startedAt"] is not None


def test_admin_clock_advance_moves_timed_builds(api: Api, manual: EmulatorHandle) -> None:
    manual.set_phase_seconds(10)
    build_id = api.start()

    response = api.post("/_emulator/clock/advance", token=None, json={"seconds": 25})

    assert response.status_code == 200
    assert api.build(build_id)["status"] == "fetching"


def test_phase_seconds_endpoint_switches_mode(api: Api, fake_time: FakeTime) -> None:
    build_id = api.start()

    response = api.request("PUT", "/_emulator/phase-seconds", token=None, json={"phaseSeconds": 5})
    fake_time.now += 5

    assert response.json() == {"phaseSeconds": 5.0}
    assert api.build(build_id)["status"] == "preparing"


def test_finished_build_lists_artefacts(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=7)

    build = api.build(build_id)

    names = [artefact["name"] for artefact in build["artefacts"]]
    assert names == ["app-release.apk", "app-release.aab", "mapping.txt", "flutter_drive.log"]
    assert build["message"] is None
    assert build["version"] == "1.4.2"
    assert build["commit"]["branch"] == "main"


def test_running_build_has_no_artefacts(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=6)

    assert api.build(build_id)["artefacts"] == []


OUTCOME_RULES = [
    pytest.param({"app_id": SAMPLE_APP_ID}, {}, id="app"),
    pytest.param({"workflow_id": "android-release"}, {}, id="workflow"),
    pytest.param({"branch": "feature/login"}, {"branch": "feature/login"}, id="branch"),
    pytest.param({"tag": "v2.0.0"}, {"branch": None, "tag": "v2.0.0"}, id="tag"),
]


@pytest.mark.parametrize("conditions, start", OUTCOME_RULES)
def test_outcome_rule_fails_matching_build(
    api: Api, manual: EmulatorHandle, conditions: dict[str, str], start: dict[str, str | None]
) -> None:
    message = "Step 6 script `Build` exited with status code 1"
    manual.set_outcome("failed", message=message, **conditions)
    build_id = api.start(**start)

    manual.advance(build_id, steps=10)
    build = api.build(build_id)

    assert build["status"] == "failed"
    assert build["message"] == message
    assert build["artefacts"] is None


def test_outcome_rule_skips_other_builds(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("failed", branch="feature/login")
    build_id = api.start(branch="main")

    manual.advance(build_id, steps=10)

    assert api.build(build_id)["status"] == "finished"


def test_outcome_most_specific_rule_wins(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("failed", app_id=SAMPLE_APP_ID, branch="main")
    manual.set_outcome("warning", app_id=SAMPLE_APP_ID)
    build_id = api.start(branch="main")

    manual.advance(build_id, steps=10)

    assert api.build(build_id)["status"] == "failed"


def test_outcome_latest_equal_rule_wins(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("failed", workflow_id="android-release")
    manual.set_outcome("timeout", workflow_id="android-release")
    build_id = api.start()

    manual.advance(build_id, steps=10)

    assert api.build(build_id)["status"] == "timeout"


def test_failed_default_message_names_last_script(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start(branch="broken-build")

    manual.advance(build_id, steps=10)
    build = api.build(build_id)

    assert build["status"] == "failed"
    assert build["message"] == "Step 6 script `Build Android release` exited with status code 1"


def test_failed_plan_skips_testing_and_publishing(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("failed")
    build_id = api.start()
    seen = []
    for _ in range(5):
        manual.advance(build_id)
        seen.append(api.build(build_id)["status"])

    assert seen == ["preparing", "fetching", "building", "finishing", "failed"]


def test_failed_build_marks_last_script_step(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("failed")
    build_id = api.start()
    manual.advance(build_id, steps=10)

    steps = {step["name"]: step["status"] for step in api.build(build_id)["buildActions"]}

    assert steps["Build Android release"] == "failed"
    assert steps["Run unit tests"] == "success"
    assert steps["Publishing"] == "skipped"


def test_skipped_outcome_ends_after_fetch(api: Api, manual: EmulatorHandle) -> None:
    manual.set_outcome("skipped")
    build_id = api.start()
    seen = []
    for _ in range(3):
        manual.advance(build_id)
        seen.append(api.build(build_id)["status"])

    assert seen == ["preparing", "fetching", "skipped"]
    assert api.build(build_id)["artefacts"] == []


def test_warning_outcome_lists_artefacts(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start(branch="flaky-tests")
    manual.advance(build_id, steps=10)

    build = api.build(build_id)

    assert build["status"] == "warning"
    assert len(build["artefacts"]) == 4


def test_timeout_config_rule_by_tag(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start(workflowId="ios-release", branch=None, tag="v0.0.0-timeout")
    manual.advance(build_id, steps=10)

    build = api.build(build_id)

    assert build["status"] == "timeout"
    assert build["message"] == "Build exceeded the maximum build duration of 90 minutes"


def test_outcome_endpoints_add_list_and_clear(api: Api) -> None:
    added = api.post(
        "/_emulator/outcomes", token=None, json={"status": "failed", "branch": "feature/x"}
    )
    listed = api.get("/_emulator/outcomes", token=None)
    cleared = api.request("DELETE", "/_emulator/outcomes", token=None)

    assert added.status_code == 200
    assert {
        "status": "failed",
        "message": None,
        "appId": None,
        "workflowId": None,
        "branch": "feature/x",
        "tag": None,
    } in listed.json()["outcomes"]
    assert len(cleared.json()["outcomes"]) == 3


@pytest.mark.parametrize(
    "body",
    [{"status": "canceled"}, {"status": "failed", "color": "red"}, {"branch": "main"}],
    ids=["canceled-status", "unknown-key", "missing-status"],
)
def test_outcome_endpoint_rejects_invalid_rule(api: Api, body: dict[str, str]) -> None:
    response = api.post("/_emulator/outcomes", token=None, json=body)

    assert response.status_code == 400


def test_outcome_endpoint_rule_applies(api: Api, manual: EmulatorHandle) -> None:
    api.post("/_emulator/outcomes", token=None, json={"status": "failed", "appId": SAMPLE_APP_ID})
    build_id = api.start()

    manual.advance(build_id, steps=10)

    assert api.build(build_id)["status"] == "failed"


def test_cancel_then_already_reported(api: Api) -> None:
    build_id = api.start()

    first = api.post(f"/builds/{build_id}/cancel")
    second = api.post(f"/builds/{build_id}/cancel")

    assert first.status_code == 200
    assert second.status_code == 208
    assert first.content == b""
    assert second.content == b""


def test_cancel_finished_build_is_208(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=10)

    response = api.post(f"/builds/{build_id}/cancel")

    assert response.status_code == 208
    assert api.build(build_id)["status"] == "finished"


def test_canceled_build_shape(api: Api, manual: EmulatorHandle, fake_time: FakeTime) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=3)
    fake_time.now += 4

    api.post(f"/builds/{build_id}/cancel")
    build = api.build(build_id)

    assert build["status"] == "canceled"
    assert build["artefacts"] is None
    assert build["finishedAt"] == "2026-01-01T00:00:04.000+0000"
    assert {step["name"]: step["status"] for step in build["buildActions"]}["Publishing"] is None


def test_cancel_queued_build_keeps_started_at_null(api: Api) -> None:
    build_id = api.start()

    api.post(f"/builds/{build_id}/cancel")

    assert api.build(build_id)["startedAt"] is None


def test_cancel_does_not_advance(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    api.post(f"/builds/{build_id}/cancel")

    manual.advance(build_id, steps=10)

    assert api.build(build_id)["status"] == "canceled"


def test_cancel_unknown_build_is_404(api: Api) -> None:
    response = api.post("/builds/0123456789abcdef01234567/cancel")

    assert response.status_code == 404


def test_cancel_get_is_405(api: Api) -> None:
    response = api.get(f"/builds/{api.start()}/cancel")

    assert response.status_code == 405


def test_force_status_holds_building(api: Api, manual: EmulatorHandle, fake_time: FakeTime) -> None:
    manual.set_phase_seconds(1)
    build_id = api.start()

    manual.force_status(build_id, "building")
    manual.set_phase_seconds(None)
    fake_time.now += 100

    assert api.build(build_id)["status"] == "building"


def test_force_terminal_status_with_message(api: Api) -> None:
    build_id = api.start()

    response = api.post(
        f"/_emulator/builds/{build_id}/status",
        token=None,
        json={"status": "failed", "message": "Failed to clone repository"},
    )
    build = api.build(build_id)

    assert response.status_code == 200
    assert build["status"] == "failed"
    assert build["message"] == "Failed to clone repository"
    assert build["finishedAt"] is not None


def test_force_unknown_status_holds_build(
    api: Api, manual: EmulatorHandle, fake_time: FakeTime
) -> None:
    manual.set_phase_seconds(1)
    build_id = api.start()

    manual.force_status(build_id, "waiting")
    fake_time.now += 100

    assert api.build(build_id)["status"] == "waiting"


def test_forced_unknown_status_resumes_on_advance(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start()
    manual.advance(build_id, steps=2)
    manual.force_status(build_id, "initializing")

    manual.advance(build_id)

    assert api.build(build_id)["status"] == "building"


def test_force_finished_lists_artefacts(api: Api, manual: EmulatorHandle) -> None:
    build_id = api.start(appId=SAMPLE_ANDROID_APP_ID, workflowId="android-debug", branch="develop")

    manual.force_status(build_id, "finished")
    build = api.build(build_id)

    assert [a["name"] for a in build["artefacts"]] == ["app-debug.apk", "lint-results-debug.html"]


@pytest.mark.parametrize(
    "body", [{}, {"status": ""}, {"status": "failed", "message": 3}], ids=["empty", "blank", "num"]
)
def test_force_status_rejects_invalid_body(api: Api, body: dict[str, object]) -> None:
    response = api.post(f"/_emulator/builds/{api.start()}/status", token=None, json=body)

    assert response.status_code == 400


def test_force_status_unknown_build_is_404(api: Api) -> None:
    response = api.post(
        "/_emulator/builds/0123456789abcdef01234567/status", token=None, json={"status": "failed"}
    )

    assert response.status_code == 404
