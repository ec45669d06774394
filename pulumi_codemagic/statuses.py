"""Codemagic build statuses: which exist, which are final and which count as success.

Codemagic groups its statuses into "in progress" (queued, preparing, fetching, testing,
building, publishing, finishing) and "final" (finished, warning, failed, canceled, timeout,
skipped). The v3 API adds ``initializing`` and the status documentation adds ``waiting``;
both are in progress.

Codemagic may add statuses at any time, so a status this module does not know is kept as a
plain string and treated as still running. It is logged once per value and process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

__all__ = [
    "DEFAULT_SUCCESS_STATUSES",
    "DOCUMENTED_STATUSES",
    "IN_PROGRESS_STATUSES",
    "KNOWN_STATUSES",
    "TERMINAL_STATUSES",
    "is_known",
    "is_terminal",
    "validate_success_statuses",
]

logger = logging.getLogger(__name__)

DOCUMENTED_STATUSES: frozenset[str] = frozenset(
    {
        "building",
        "canceled",
        "fetching",
        "finished",
        "finishing",
        "failed",
        "preparing",
        "publishing",
        "queued",
        "skipped",
        "testing",
        "timeout",
        "warning",
    }
)
"""The 13 statuses listed in the Builds API documentation for ``GET /builds/:id``."""

TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"finished", "warning", "failed", "canceled", "timeout", "skipped"}
)
"""Statuses after which a build never changes again."""

KNOWN_STATUSES: frozenset[str] = DOCUMENTED_STATUSES | {"initializing", "waiting"}
"""The documented statuses plus ``initializing`` (v3 API) and ``waiting`` (has a slot,
a machine is being obtained)."""

IN_PROGRESS_STATUSES: frozenset[str] = KNOWN_STATUSES - TERMINAL_STATUSES
"""Known statuses of a build that is still running. ``finishing`` is one of them: its
artefacts may not be final yet."""

DEFAULT_SUCCESS_STATUSES: frozenset[str] = frozenset({"finished", "warning"})
"""Terminal statuses that count as success unless the caller chooses otherwise.

``warning`` is a legacy final status whose meaning Codemagic does not document. It most
likely marks a build whose tests failed while "stop build if tests fail" was off, so the
build itself produced its artefacts.
"""

_reported_unknown_statuses: set[str] = set()
_reported_lock = threading.Lock()


def is_known(status: str) -> bool:
    """Return whether ``status`` is one of :data:`KNOWN_STATUSES`."""
    return status in KNOWN_STATUSES


def is_terminal(status: str) -> bool:
    """Tell whether a build with ``status`` has stopped for good.

    An unknown status counts as still running, so a caller keeps polling until its own
    deadline. The first time each unknown value is seen in this process, a warning is
    logged.
    """
    if status in TERMINAL_STATUSES:
        return True
    if status not in KNOWN_STATUSES:
        _report_unknown(status)
    return False


def validate_success_statuses(statuses: Iterable[str]) -> frozenset[str]:
    """Check that ``statuses`` is a non-empty subset of :data:`TERMINAL_STATUSES`.

    Returns the statuses as a frozenset. Raises ``ValueError`` naming the offending values,
    because a success status that is not terminal would end a wait on a running build.
    """
    if isinstance(statuses, str):
        raise ValueError(
            f"success_statuses must be a collection of statuses, not the string {statuses!r}; "
            f"write {{{statuses!r}}}"
        )
    chosen = frozenset(statuses)
    if not chosen:
        raise ValueError(
            "success_statuses is empty; choose one or more of "
            + ", ".join(sorted(TERMINAL_STATUSES))
        )
    invalid = sorted(chosen - TERMINAL_STATUSES)
    if invalid:
        raise ValueError(
            "success_statuses may only contain terminal statuses ("
            + ", ".join(sorted(TERMINAL_STATUSES))
            + "); invalid: "
            + ", ".join(invalid)
        )
    return chosen


def _report_unknown(status: str) -> None:
    with _reported_lock:
        if status in _reported_unknown_statuses:
            return
        _reported_unknown_statuses.add(status)
    logger.warning(
        "Codemagic returned the unknown build status %r; treating it as still running",
        status,
    )
