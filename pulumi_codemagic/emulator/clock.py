"""Provide the emulator's wall clock and the timestamp formats the Codemagic API uses.

Every time the emulator reads (build timestamps, the status progression, public URL
expiry) comes from one `EmulatorClock`. The clock adds an adjustable offset to a time
source, so tests and the admin endpoint can move time forward without sleeping. The
source defaults to `time.time` and can be replaced by any callable that returns UNIX
seconds, for example a test's fake clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

TimeSource = Callable[[], float]


class EmulatorClock:
    """Thread-safe UNIX-time clock made of a time source plus an offset in seconds."""

    def __init__(self, source: TimeSource = time.time) -> None:
        self._source = source
        self._offset_seconds = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Return the current emulated time in UNIX seconds."""
        with self._lock:
            return self._source() + self._offset_seconds

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` and return the new time.

        Raises ValueError for a negative value, because builds and public URLs
        assume that time never goes back.
        """
        if seconds < 0:
            raise ValueError(f"cannot move the clock back: seconds={seconds!r} is negative")
        with self._lock:
            self._offset_seconds += seconds
            return self._source() + self._offset_seconds

    def reset(self) -> None:
        """Remove any offset added by `advance`."""
        with self._lock:
            self._offset_seconds = 0.0


def format_legacy_timestamp(unix_seconds: float) -> str:
    """Format a time as the legacy API does: milliseconds and a colon-less UTC offset.

    Example: ``2020-09-08T07:18:02.203+0000``.
    """
    moment = datetime.fromtimestamp(unix_seconds, tz=timezone.utc)
    milliseconds = moment.microsecond // 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{milliseconds:03d}+0000"


def format_offset_timestamp(unix_seconds: float) -> str:
    """Format a time as the public-url endpoint does: whole seconds and ``+00:00``.

    Example: ``2023-02-03T10:15:45+00:00``.
    """
    moment = datetime.fromtimestamp(int(unix_seconds), tz=timezone.utc)
    return moment.isoformat()
