"""Check and fail under the real engine: a preview with inputs unknown until deployment, bad
inputs rejected before any HTTP call, a failed build with its message and URL, and a later up
that starts a new build."""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_harness import PROJECTS_DIR, EngineOutput, ProjectStackFactory
from pulumi import automation as auto

from pulumi_codemagic.emulator import SAMPLE_APP_ID, EmulatorHandle

BUILD_PROJECT = PROJECTS_DIR / "build_app"
BUILD_TYPE = "pulumi-python:dynamic/codemagic:Build"
FAILURE_MESSAGE = "Step 5 script `Build Android` exited with status code 1"


def set_build_config(stack: auto.Stack, build: dict[str, Any]) -> None:
    stack.set_config("build", auto.ConfigValue(json.dumps(build)))


def build_records(stack: auto.Stack) -> list[dict[str, Any]]:
    deployment = stack.export_stack().deployment
    assert deployment is not None
    return [r for r in deployment.get("resources", []) if r["type"] == BUILD_TYPE]


def api_request_count(emulator: EmulatorHandle) -> int:
    return sum(emulator.stats()["requests"].values())


def test_build_failures(
    project_stack: ProjectStackFactory, engine_output: EngineOutput, emulator: EmulatorHandle
) -> None:
    stack = project_stack(
        BUILD_PROJECT,
        config={
            "codemagic:apiUrl": emulator.base_url,
            "environmentAsDict": "true",
            "dependent": "true",
        },
        secret_config={"codemagic:token": emulator.token},
    )
    good_build = {
        "app_id": SAMPLE_APP_ID,
        "workflow_id": "android-release",
        "branch": "main",
        "poll_interval_seconds": 1,
    }

    # Preview passes with inputs that are unknown until the first build exists, and sends
    # nothing to the API.
    set_build_config(stack, good_build)
    previewed = stack.preview(on_output=engine_output, color="never")
    assert previewed.change_summary == {"create": 3}
    assert api_request_count(emulator) == 0
    stack.set_config("dependent", auto.ConfigValue("false"))

    # Bad inputs fail the check, naming each property, before any request to the API.
    set_build_config(
        stack,
        {
            "app_id": "",
            "workflow_id": "android-release",
            "branch": "main",
            "tag": "v1.0.0",
            "environment": {"GITHUB_TAG": "v1"},
            "poll_interval_seconds": 0,
            "success_statuses": ["done"],
        },
    )
    with pytest.raises(auto.CommandError) as rejected:
        stack.up(on_output=engine_output, color="never")
    for fragment in (
        "Missing app_id",
        "Both branch ('main') and tag ('v1.0.0') are set",
        'write {"variables": {"GITHUB_TAG": "v1"}}',
        "poll_interval_seconds must be from 1 to 600 seconds, got 0",
        "Unknown or non-terminal statuses 'done'",
    ):
        assert fragment in str(rejected.value)
    assert api_request_count(emulator) == 0

    # A build that fails makes up fail with Codemagic's message and the build's URL.
    emulator.set_outcome("failed", message=FAILURE_MESSAGE, branch="main")
    set_build_config(stack, good_build)
    with pytest.raises(auto.CommandError) as failed:
        stack.up(on_output=engine_output, color="never")
    (failed_build,) = emulator.builds()
    build_url = f"https://codemagic.io/app/{SAMPLE_APP_ID}/build/{failed_build['buildId']}"
    assert "ended with status 'failed'" in str(failed.value)
    assert FAILURE_MESSAGE in str(failed.value)
    assert build_url in str(failed.value)
    assert emulator.start_count == 1
    assert build_records(stack) == []

    # Once builds succeed again, the next up starts a new build.
    emulator.clear_outcomes()
    recovered = stack.up(on_output=engine_output, color="never")
    assert recovered.outputs["status"].value == "finished"
    assert recovered.outputs["build_id"].value != failed_build["buildId"]
    assert emulator.start_count == 2
