"""Report the status changes of a build while the provider waits for it.

Each change is written once to the ``pulumi up`` output and once to :mod:`logging`.
The provider runs in a plugin process that the engine starts. That process has no engine
connection for :mod:`pulumi.log`, but the engine copies every line the plugin writes to its
standard error into the ``pulumi up`` output, so :func:`write_to_engine_output` writes there.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from .models import Build

__all__ = ["StatusReporter", "describe_status", "write_to_engine_output"]

logger = logging.getLogger(__name__)

_stderr_lock = threading.Lock()


def write_to_engine_output(line: str) -> None:
    """Write one line to the plugin's standard error, which the engine shows in its output.

    A lock keeps lines from concurrent provider calls whole.
    """
    with _stderr_lock:
        sys.stderr.write(line.rstrip("\n") + "\n")
        sys.stderr.flush()


def describe_status(build: Build) -> str:
    """Return the one-line progress message for ``build``'s current status."""
    number = f"#{build.index}" if build.index is not None else build.id
    workflow = f" of workflow {build.workflow_id}" if build.workflow_id else ""
    text = f"Codemagic build {number}{workflow} status: {build.status} ({build.page_url})"
    if build.message and build.is_terminal:
        text += f": {build.message}"
    return text


class StatusReporter:
    """Report each new status of one build once; repeated polls of a status stay silent.

    Pass an instance as ``on_status_change`` to :func:`pulumi_codemagic.waiting.wait_for_build`.
    One instance serves one build in one provider call, so it needs no lock.
    """

    def __init__(self, emit: Callable[[str], None] = write_to_engine_output) -> None:
        self._emit = emit
        self._last_status: str | None = None

    def __call__(self, build: Build) -> None:
        if build.status == self._last_status:
            return
        self._last_status = build.status
        logger.info("Build %s (#%s) is %s", build.id, build.index, build.status)
        self._emit(describe_status(build))
