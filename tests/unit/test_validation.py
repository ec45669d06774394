"""Tests of the Build input checks: one failure per bad property, defaults, unknown values."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

from pulumi_codemagic.validation import (
    INPUT_PROPERTIES,
    check_build_inputs,
    contains_unknown,
    normalize_build_inputs,
)

UNKNOWN = Unknown()
"""An unknown value as the dynamic provider receives it during preview."""

VALID: dict[str, Any] = {
    "app_id": "64f0a1b2c3d4e5f6a7b8c9d0",
    "workflow_id": "android-release",
    "branch": "main",
}


def failures_of(**overrides: Any) -> dict[str, str]:
    """Check VALID with ``overrides`` (None removes a key) and map property to reason."""
    news = {**VALID, **overrides}
    news = {key: value for key, value in news.items() if value is not None}
    result = check_build_inputs(news)
    reasons: dict[str, str] = {}
    for failure in result.failures:
        assert failure.property not in reasons, f"two failures for {failure.property}"
        reasons[failure.property] = failure.reason
    return reasons


def test_check_valid_inputs_pass() -> None:
    assert failures_of() == {}


def test_check_fills_defaults() -> None:
    inputs = check_build_inputs(VALID).inputs
    assert inputs == {
        "app_id": "64f0a1b2c3d4e5f6a7b8c9d0",
        "workflow_id": "android-release",
        "branch": "main",
        "tag": None,
        "environment": {"variables": {}, "groups": [], "software_versions": {}},
        "labels": [],
        "instance_type": None,
        "triggers": [],
        "wait_for_completion": True,
        "wait_timeout_minutes": 180,
        "poll_interval_seconds": 30,
        "success_statuses": ["finished", "warning"],
        "cancel_on_delete": True,
        "public_artefact_url_ttl_hours": None,
    }


def test_check_drops_unknown_keys() -> None:
    inputs = check_build_inputs({**VALID, "__provider": "abc", "build_id": None}).inputs
    assert set(inputs) == set(INPUT_PROPERTIES)


def test_check_normalizes_environment_alias() -> None:
    environment = {"variables": {"A": "1"}, "softwareVersions": {"flutter": "3.24.0"}}
    inputs = check_build_inputs({**VALID, "environment": environment}).inputs
    assert inputs["environment"] == {
        "variables": {"A": "1"},
        "groups": [],
        "software_versions": {"flutter": "3.24.0"},
    }


def test_check_sorts_success_statuses() -> None:
    inputs = check_build_inputs({**VALID, "success_statuses": ["warning", "finished", "warning"]})
    assert inputs.inputs["success_statuses"] == ["finished", "warning"]


def test_check_ttl_float_becomes_int() -> None:
    inputs = check_build_inputs({**VALID, "public_artefact_url_ttl_hours": 24.0}).inputs
    assert inputs["public_artefact_url_ttl_hours"] == 24
    assert isinstance(inputs["public_artefact_url_ttl_hours"], int)


BAD_INPUT_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"app_id": ""}, "app_id", "Missing app_id"),
    ({"app_id": None}, "app_id", "Missing app_id"),
    ({"app_id": 12}, "app_id", "must be a string"),
    ({"app_id": " abc"}, "app_id", "leading or trailing whitespace"),
    ({"workflow_id": "  "}, "workflow_id", "workflows:` in codemagic.yaml"),
    ({"branch": None}, "branch", "Missing branch or tag"),
    ({"tag": "v1"}, "branch", "Both branch ('main') and tag ('v1') are set"),
    ({"branch": ""}, "branch", "branch is empty"),
    ({"branch": None, "tag": 3}, "tag", "tag must be a string"),
    ({"environment": "FOO=1"}, "environment", "must be a map or BuildEnvironmentArgs"),
    (
        {"environment": {"GITHUB_TAG": "v1"}},
        "environment",
        'write {"variables": {"GITHUB_TAG": "v1"}} instead of {"GITHUB_TAG": "v1"}',
    ),
    (
        {"environment": {"variables": {}, "secrets": {}}},
        "environment",
        "Unknown environment keys 'secrets'",
    ),
    (
        {"environment": {"variables": {"COUNT": 3}}},
        "environment.variables",
        'Variable values must be strings (COUNT is the number 3): quote them, for example "3"',
    ),
    (
        {"environment": {"variables": {"1BAD": "x", "ok-not": "y"}}},
        "environment.variables",
        "Invalid variable names '1BAD', 'ok-not'",
    ),
    (
        {"environment": {"variables": ["A"]}},
        "environment.variables",
        "must be a map of names to strings",
    ),
    (
        {"environment": {"groups": "signing"}},
        "environment.groups",
        'write ["signing"]',
    ),
    (
        {"environment": {"groups": ["ok", ""]}},
        "environment.groups",
        "non-empty variable group name",
    ),
    (
        {"environment": {"software_versions": {"flutter": 3.24}}},
        "environment.software_versions",
        "check flutter",
    ),
    ({"labels": "release"}, "labels", 'write ["release"]'),
    ({"labels": ["ok", 5]}, "labels", "got the number 5"),
    ({"instance_type": ""}, "instance_type", "machine type such as mac_mini_m2"),
    ({"triggers": "sha"}, "triggers", "triggers=[commit_sha]"),
    ({"wait_for_completion": "yes"}, "wait_for_completion", "must be true or false"),
    ({"wait_timeout_minutes": 0}, "wait_timeout_minutes", "greater than zero, got 0"),
    ({"wait_timeout_minutes": -5}, "wait_timeout_minutes", "greater than zero, got -5"),
    ({"wait_timeout_minutes": 5000}, "wait_timeout_minutes", "to 1440 minutes, got 5000"),
    ({"wait_timeout_minutes": "3h"}, "wait_timeout_minutes", "must be a number of minutes"),
    ({"wait_timeout_minutes": True}, "wait_timeout_minutes", "the boolean true"),
    ({"poll_interval_seconds": 0}, "poll_interval_seconds", "from 1 to 600 seconds, got 0"),
    ({"poll_interval_seconds": 601}, "poll_interval_seconds", "got 601"),
    (
        {"success_statuses": ["finished", "done"]},
        "success_statuses",
        "Unknown or non-terminal statuses 'done': success_statuses accepts only the "
        "terminal statuses canceled, failed, finished, skipped, timeout, warning",
    ),
    ({"success_statuses": ["building"]}, "success_statuses", "'building'"),
    ({"success_statuses": []}, "success_statuses", "is empty, so no build could succeed"),
    ({"success_statuses": "finished"}, "success_statuses", "must be a list"),
    ({"cancel_on_delete": 1}, "cancel_on_delete", "must be true or false"),
    (
        {"public_artefact_url_ttl_hours": 0},
        "public_artefact_url_ttl_hours",
        "from 1 to 8760 hours, got 0",
    ),
    (
        {"public_artefact_url_ttl_hours": 1.5},
        "public_artefact_url_ttl_hours",
        "whole number of hours, got 1.5",
    ),
]


def case_id(overrides: dict[str, Any]) -> str:
    return ",".join(f"{key}={value!r}" for key, value in overrides.items())


@pytest.mark.parametrize(
    ("overrides", "prop", "fragment"),
    BAD_INPUT_CASES,
    ids=[case_id(case[0]) for case in BAD_INPUT_CASES],
)
def test_check_reports_bad_property(overrides: dict[str, Any], prop: str, fragment: str) -> None:
    failures = failures_of(**overrides)
    assert list(failures) == [prop]
    assert fragment in failures[prop]


def test_check_reports_each_bad_property_once() -> None:
    failures = failures_of(
        app_id="",
        tag="v1",
        environment={"variables": {"X": 1}, "groups": "g"},
        poll_interval_seconds=-1,
        success_statuses=["nope"],
    )
    assert sorted(failures) == [
        "app_id",
        "branch",
        "environment.groups",
        "environment.variables",
        "poll_interval_seconds",
        "success_statuses",
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"app_id": UNKNOWN},
        {"branch": UNKNOWN, "tag": "v1"},
        {"branch": None, "tag": UNKNOWN},
        {"environment": UNKNOWN},
        {"environment": {"variables": UNKNOWN}},
        {"environment": {"variables": {"SHA": UNKNOWN}}},
        {"environment": {"groups": [UNKNOWN]}},
        {"labels": UNKNOWN},
        {"labels": ["a", UNKNOWN]},
        {"triggers": UNKNOWN},
        {"triggers": [UNKNOWN]},
        {"wait_timeout_minutes": UNKNOWN},
        {"success_statuses": UNKNOWN},
        {"public_artefact_url_ttl_hours": UNKNOWN},
    ],
    ids=[
        "app_id",
        "branch",
        "tag",
        "environment",
        "variables",
        "variable-value",
        "group",
        "labels",
        "label",
        "triggers",
        "trigger",
        "timeout",
        "statuses",
        "ttl",
    ],
)
def test_check_skips_unknown_values(overrides: dict[str, Any]) -> None:
    assert failures_of(**overrides) == {}


def test_check_keeps_unknown_values() -> None:
    inputs = check_build_inputs({**VALID, "triggers": [UNKNOWN]}).inputs
    assert inputs["triggers"] == [UNKNOWN]


def test_check_unwraps_secret_values() -> None:
    secret = rpc.wrap_rpc_secret({"variables": {"TOKEN": "s3cret"}})
    result = check_build_inputs({**VALID, "environment": secret})
    assert result.failures == []
    assert result.inputs["environment"]["variables"] == {"TOKEN": "s3cret"}


@pytest.mark.parametrize("unknown", [UNKNOWN, rpc.UNKNOWN], ids=["instance", "wire-string"])
def test_contains_unknown_nested(unknown: Any) -> None:
    assert contains_unknown({"a": [1, {"b": unknown}]})


def test_contains_unknown_plain_values() -> None:
    assert not contains_unknown({"a": [1, {"b": "x"}], "c": None})


def test_normalize_is_idempotent() -> None:
    once = normalize_build_inputs({**VALID, "labels": ("a",), "environment": {"groups": ["g"]}})
    assert normalize_build_inputs(once) == once
