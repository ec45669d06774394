from __future__ import annotations

import logging

import pytest

from pulumi_codemagic.statuses import (
    DEFAULT_SUCCESS_STATUSES,
    DOCUMENTED_STATUSES,
    KNOWN_STATUSES,
    TERMINAL_STATUSES,
    is_known,
    is_terminal,
    validate_success_statuses,
)


def test_statuses_documented_count() -> None:
    assert len(DOCUMENTED_STATUSES) == 13


def test_statuses_known_adds_initializing_and_waiting() -> None:
    assert {"initializing", "waiting"} == KNOWN_STATUSES - DOCUMENTED_STATUSES


def test_statuses_terminal_set() -> None:
    assert {"finished", "warning", "failed", "canceled", "timeout", "skipped"} == TERMINAL_STATUSES


def test_statuses_default_success() -> None:
    assert {"finished", "warning"} == DEFAULT_SUCCESS_STATUSES


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_is_terminal_true_for_final_statuses(status: str) -> None:
    assert is_terminal(status)


@pytest.mark.parametrize("status", sorted(KNOWN_STATUSES - TERMINAL_STATUSES))
def test_is_terminal_false_while_running(status: str) -> None:
    assert not is_terminal(status)


def test_is_terminal_finishing_still_running() -> None:
    assert not is_terminal("finishing")


def test_is_terminal_unknown_status_running() -> None:
    assert not is_terminal("unknown-status-running")


def test_is_terminal_cancelled_spelling_unknown() -> None:
    # Codemagic spells it "canceled"; the British spelling is not a terminal status.
    assert not is_terminal("cancelled")


def test_is_known_unknown_status() -> None:
    assert not is_known("hibernating")


def test_unknown_status_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pulumi_codemagic.statuses")

    is_terminal("unknown-status-logged-once")
    is_terminal("unknown-status-logged-once")
    is_terminal("unknown-status-logged-once")

    messages = [r.getMessage() for r in caplog.records if "logged-once" in r.getMessage()]
    assert len(messages) == 1
    assert "treating it as still running" in messages[0]


def test_unknown_status_each_value_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pulumi_codemagic.statuses")

    is_terminal("unknown-status-first")
    is_terminal("unknown-status-second")

    assert len(caplog.records) == 2


def test_known_status_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_codemagic.statuses")

    is_terminal("building")

    assert caplog.records == []


def test_validate_success_statuses_accepts_subset() -> None:
    assert validate_success_statuses(["finished"]) == frozenset({"finished"})


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ([], "success_statuses is empty"),
        (["finished", "building"], "invalid: building"),
        (["done"], "invalid: done"),
        ("finished", "not the string 'finished'"),
    ],
    ids=["empty", "running-status", "unknown-status", "bare-string"],
)
def test_validate_success_statuses_rejects(statuses: list[str] | str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_success_statuses(statuses)
