"""Tests of the provider's output conversion and progress lines."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from provider_fakes import BUILD_URL, artefact_json, build_json

from pulumi_codemagic.models import Build
from pulumi_codemagic.outputs import build_outputs, isoformat, require_json_safe
from pulumi_codemagic.progress import StatusReporter, describe_status


def make_build(status: str = "finished", **fields: Any) -> Build:
    return Build.model_validate(build_json(status, **fields))


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"started_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}, "outputs.started_at"),
        ({"artefacts": [{"size": b"12"}]}, "outputs.artefacts[0].size"),
        ({"labels": ("a", "b")}, "outputs.labels"),
        ({1: "x"}, "outputs"),
    ],
    ids=["datetime", "bytes", "tuple", "int-key"],
)
def test_json_safe_names_bad_value(value: dict[Any, Any], path: str) -> None:
    with pytest.raises(TypeError, match=f"^{re.escape(path)} "):
        require_json_safe(value)


def test_json_safe_accepts_plain_values() -> None:
    require_json_safe({"a": [1, 2.5, True, None, "x", {"b": []}]})


def test_isoformat_converts_to_utc() -> None:
    value = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert isoformat(value) == "2026-01-01T12:00:00+00:00"


def test_isoformat_keeps_none() -> None:
    assert isoformat(None) is None


def test_build_outputs_keep_first_duplicate_name() -> None:
    first = artefact_json("app.apk", url="https://api.example.invalid/artifacts/1/1/app.apk")
    second = artefact_json("app.apk", url="https://api.example.invalid/artifacts/2/2/app.apk")

    outputs = build_outputs(make_build(artefacts=[first, second]))

    assert outputs["artefact_urls"] == {"app.apk": first["url"]}
    assert len(outputs["artefacts"]) == 2


def test_describe_status_running() -> None:
    assert describe_status(make_build("building")) == (
        f"Codemagic build #48 of workflow android-release status: building ({BUILD_URL})"
    )


def test_describe_status_failure_message() -> None:
    build = make_build("failed", message="Failed to clone repository")
    expected_end = f"status: failed ({BUILD_URL}): Failed to clone repository"
    assert describe_status(build).endswith(expected_end)


def test_describe_status_without_number() -> None:
    build = make_build("queued", index=None)
    assert describe_status(build).startswith(f"Codemagic build {build.id} of workflow")


def test_reporter_skips_repeated_status() -> None:
    lines: list[str] = []
    reporter = StatusReporter(lines.append)
    for status in ("queued", "queued", "building", "queued"):
        reporter(make_build(status))
    assert [line.split(" status: ")[1].split(" ")[0] for line in lines] == [
        "queued",
        "building",
        "queued",
    ]
