"""Run builds without waiting under the real engine: refresh picks up status changes, a new
trigger replaces a build and cancels the old one while it runs, and destroy cancels the last."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from engine_harness import PROJECTS_DIR, EngineOutput, ProjectStackFactory
from pulumi import automation as auto

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle, run_emulator

BUILD_PROJECT = PROJECTS_DIR / "build_app"
BUILD_TYPE = "pulumi-python:dynamic/codemagic:Build"
TOKEN = "cm-fake-token-e2e-manual"
CANCEL_ROUTE = "POST /builds/{build_id}/cancel"


@pytest.fixture
def codemagic() -> Iterator[EmulatorHandle]:
    """An emulator in manual mode: builds move only when the test advances them."""
    with run_emulator(token=TOKEN, phase_seconds=None) as handle:
        yield handle


def set_build_config(stack: auto.Stack, **arguments: Any) -> None:
    build = {
        "app_id": SAMPLE_APP_ID,
        "workflow_id": "android-release",
        "branch": "main",
        "wait_for_completion": False,
        **arguments,
    }
    stack.set_config("build", auto.ConfigValue(json.dumps(build)))


def build_state(stack: auto.Stack) -> dict[str, Any]:
    """Return the stored outputs of the stack's one Build (stack exports change only on up)."""
    deployment = stack.export_stack().deployment
    assert deployment is not None
    records = [r for r in deployment["resources"] if r["type"] == BUILD_TYPE]
    assert len(records) == 1
    outputs: dict[str, Any] = records[0]["outputs"]
    return outputs


def cancel_requests(codemagic: EmulatorHandle) -> int:
    return int(codemagic.stats()["requests"].get(CANCEL_ROUTE, 0))


def test_build_replace_refresh_destroy(
    project_stack: ProjectStackFactory, engine_output: EngineOutput, codemagic: EmulatorHandle
) -> None:
    stack = project_stack(
        BUILD_PROJECT,
        config={"codemagic:apiUrl": codemagic.base_url},
        secret_config={"codemagic:token": TOKEN},
    )

    # Create without waiting: the build is still queued when up returns.
    set_build_config(stack, triggers=["sha-1"])
    first = stack.up(on_output=engine_output, color="never")
    first_id = first.outputs["build_id"].value
    assert first.outputs["status"].value == "queued"
    assert codemagic.start_count == 1

    # Refresh reads the status the build has moved to.
    codemagic.advance(first_id)
    moved_status = codemagic.build(first_id)["status"]
    assert moved_status != "queued"
    stack.refresh(on_output=engine_output, color="never")
    assert build_state(stack)["status"] == moved_status

    # A new trigger starts a second build, then cancels the first, which still runs.
    set_build_config(stack, triggers=["sha-2"])
    second = stack.up(on_output=engine_output, color="never")
    second_id = second.outputs["build_id"].value
    assert second.summary.resource_changes == {"replace": 1, "same": 1}
    assert second_id != first_id
    assert codemagic.start_count == 2
    assert codemagic.build(first_id)["status"] == "canceled"
    assert f"Canceled Codemagic build {first_id}" in engine_output

    # Refresh after the second build finished brings its artefacts into the state.
    codemagic.advance(second_id, steps=20)
    stack.refresh(on_output=engine_output, color="never")
    refreshed = build_state(stack)
    emulated = codemagic.build(second_id)["build"]
    assert refreshed["status"] == "finished"
    assert refreshed["finished_at"] is not None
    assert refreshed["artefact_urls"] == {a["name"]: a["url"] for a in emulated["artefacts"]}
    assert refreshed["build_id"] == second_id

    # Replacing a finished build sends no cancel request for it.
    cancels_before = cancel_requests(codemagic)
    set_build_config(stack, triggers=["sha-3"])
    third = stack.up(on_output=engine_output, color="never")
    third_id = third.outputs["build_id"].value
    assert codemagic.start_count == 3
    assert cancel_requests(codemagic) == cancels_before
    assert codemagic.build(second_id)["status"] == "finished"

    # Destroy cancels the build that is still running.
    stack.destroy(on_output=engine_output, color="never")
    assert codemagic.build(third_id)["status"] == "canceled"
    assert codemagic.start_count == 3
