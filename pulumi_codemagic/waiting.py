"""Wait for a Codemagic build to reach a terminal status.

Polling starts fast, because many failures (a wrong branch, a skipped build) end a build within
seconds, and slows down to ``poll_interval_seconds`` for long builds: the first wait is
:data:`INITIAL_POLL_INTERVAL_SECONDS` (or ``poll_interval_seconds`` if smaller), and each next
one is :data:`POLL_INTERVAL_GROWTH` times longer, up to ``poll_interval_seconds``. No wait goes
past the deadline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from .errors import (
    BuildFailedError,
    BuildWaitTimeoutError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)
from .models import Build
from .statuses import DEFAULT_SUCCESS_STATUSES, is_terminal, validate_success_statuses

__all__ = [
    "INITIAL_POLL_INTERVAL_SECONDS",
    "POLL_INTERVAL_GROWTH",
    "BuildReader",
    "wait_for_build",
]

logger = logging.getLogger(__name__)

INITIAL_POLL_INTERVAL_SECONDS = 2.0
"""Wait before the second poll, in seconds."""

POLL_INTERVAL_GROWTH = 1.5
"""Factor by which each wait grows until it reaches ``poll_interval_seconds``."""


class BuildReader(Protocol):
    """Anything that reads a build by id, such as
    :class:`~pulumi_codemagic.client.CodemagicClient`."""

    def get_build(self, build_id: str) -> Build: ...


def wait_for_build(
    client: BuildReader,
    build_id: str,
    *,
    timeout_seconds: float,
    success_statuses: Iterable[str] = DEFAULT_SUCCESS_STATUSES,
    poll_interval_seconds: float = 30.0,
    on_status_change: Callable[[Build], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Build:
    """Poll a build until it reaches a terminal status, and return it if that is a success.

    Transient API failures while polling (rate limiting, 5xx, timeouts, each after the
    client's own retries) are logged and polling goes on until the deadline. A rejected token
    or an unknown build id ends the wait at once with that error. An unknown status counts as
    still running.

    Args:
        client: Reads the build; usually a ``CodemagicClient``.
        build_id: Id of the build to wait for.
        timeout_seconds: Maximum time to wait, in seconds, counted from the call. With 0 the
            build is read once.
        success_statuses: Terminal statuses that count as success. Default ``finished`` and
            ``warning``. Every value must be terminal.
        poll_interval_seconds: Maximum wait between two reads, in seconds. Default 30. The
            first waits are shorter; see the module documentation.
        on_status_change: Called with the build on the first read and each time its status
            changes. Exceptions it raises end the wait.
        clock: Monotonic clock in seconds. Default :func:`time.monotonic`.
        sleep: Pauses for a number of seconds. Default :func:`time.sleep`.

    Returns:
        The build, in one of ``success_statuses``.

    Raises:
        BuildFailedError: the build ended in another terminal status, such as ``failed``,
            ``canceled``, ``timeout`` or ``skipped``.
        BuildWaitTimeoutError: the build had not ended at the deadline. It may still be running.
        TokenRejectedError, NotFoundError: reading the build failed for good.
    """
    successes = validate_success_statuses(success_statuses)
    if timeout_seconds < 0:
        raise ValueError(f"timeout_seconds must be 0 or more, got {timeout_seconds}")
    if poll_interval_seconds <= 0:
        raise ValueError(
            f"poll_interval_seconds must be greater than 0, got {poll_interval_seconds}"
        )

    deadline = clock() + timeout_seconds
    interval = min(INITIAL_POLL_INTERVAL_SECONDS, poll_interval_seconds)
    last_build: Build | None = None

    while True:
        build = _read_build(client, build_id)
        if build is not None:
            if last_build is None or build.status != last_build.status:
                logger.info("Build %s is %s", build_id, build.status)
                if on_status_change is not None:
                    on_status_change(build)
            last_build = build

            if is_terminal(build.status):
                if build.status in successes:
                    return build
                raise BuildFailedError(build)

        remaining = deadline - clock()
        if remaining <= 0:
            raise BuildWaitTimeoutError(
                build_id, timeout_seconds=timeout_seconds, last_build=last_build
            )
        sleep(min(interval, remaining))
        interval = min(interval * POLL_INTERVAL_GROWTH, poll_interval_seconds)


def _read_build(client: BuildReader, build_id: str) -> Build | None:
    try:
        return client.get_build(build_id)
    except (RateLimitedError, ServerError, RequestTimeoutError) as exc:
        logger.warning("Reading build %s failed; polling goes on: %s", build_id, exc)
        return None
