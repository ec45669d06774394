"""Deploy the Echo test resource under the real engine: the check that the engine can run this
package's dynamic providers, before any test deploys a Build."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from engine_harness import PROJECTS_DIR, EngineOutput, ProjectStackFactory
from pulumi import automation as auto

ECHO_PROJECT = PROJECTS_DIR / "echo"
SECRET_VALUE = "echo-secret-value-1234"


def _changes_other_than_same(resource_changes: Mapping[Any, int] | None) -> dict[Any, int]:
    return {kind: count for kind, count in (resource_changes or {}).items() if kind != "same"}


def test_echo_lifecycle(
    project_stack: ProjectStackFactory, engine_output: EngineOutput, pulumi_backend_dir: Path
) -> None:
    stack = project_stack(ECHO_PROJECT, secret_config={"secret": SECRET_VALUE})

    # Create: the outputs come back through the engine with their declared types.
    created = stack.up(on_output=engine_output, color="never")
    outputs = created.outputs
    assert created.summary.resource_changes == {"create": 2}
    assert outputs["text"].value == "hello"
    assert outputs["count"].value == 3
    assert type(outputs["count"].value) is int
    assert outputs["enabled"].value is True
    assert outputs["tags"].value == ["alpha", "beta"]
    assert outputs["labels"].value == {"team": "mobile"}
    assert outputs["length"].value == 5
    assert outputs["secret"].value == SECRET_VALUE
    assert outputs["secret"].secret is True
    assert outputs["text"].secret is False

    # Inside the program, the outputs have the Python types their annotations declare.
    assert outputs["program_types"].value == {
        "text": "str",
        "count": "int",
        "enabled": "bool",
        "tags": "list",
        "labels": "dict",
        "length": "int",
    }

    # The same program again changes nothing.
    engine_output.clear()
    repeated = stack.up(on_output=engine_output, color="never")
    assert _changes_other_than_same(repeated.summary.resource_changes) == {}

    # Refresh reads the resource back through the provider restored from the state.
    refreshed = stack.refresh(on_output=engine_output, color="never")
    assert refreshed.summary.result == "succeeded"
    assert _changes_other_than_same(refreshed.summary.resource_changes) == {}

    # The state exports as JSON holding the Echo, and stores the secret only encrypted.
    deployment = stack.export_stack().deployment
    assert deployment is not None
    resource_types = [resource["type"] for resource in deployment["resources"]]
    assert "pulumi-python:dynamic/codemagic-testing:Echo" in resource_types
    state_files = list(pulumi_backend_dir.rglob(f"{stack.name}.json"))
    assert len(state_files) == 1
    raw_state = state_files[0].read_text(encoding="utf-8")
    assert json.loads(raw_state)["checkpoint"]["latest"]["resources"]
    assert SECRET_VALUE not in raw_state

    # Destroy deletes both the Echo and the stack resource.
    destroyed = stack.destroy(on_output=engine_output, color="never")
    assert destroyed.summary.resource_changes == {"delete": 2}


def test_echo_text_change_replaces(
    project_stack: ProjectStackFactory, engine_output: EngineOutput
) -> None:
    stack = project_stack(ECHO_PROJECT, secret_config={"secret": SECRET_VALUE})
    stack.up(on_output=engine_output, color="never")

    stack.set_config("text", auto.ConfigValue(value="changed"))
    replaced = stack.up(on_output=engine_output, color="never")

    assert _changes_other_than_same(replaced.summary.resource_changes) == {"replace": 1}
    assert replaced.outputs["text"].value == "changed"
    assert replaced.outputs["length"].value == len("changed")


def test_echo_program_error_fails_up(
    project_stack: ProjectStackFactory, engine_output: EngineOutput
) -> None:
    # Without the required `secret` config the program raises, and the language host reports it.
    stack = project_stack(ECHO_PROJECT)

    with pytest.raises(auto.CommandError) as raised:
        stack.up(on_output=engine_output, color="never")

    assert "Missing required configuration variable" in str(raised.value)
    assert "codemagic-echo:secret" in str(raised.value)
