"""Parse the timestamp forms the Codemagic API returns into timezone-aware datetimes.

Three forms occur:

* ``2020-09-08T07:18:02.203+0000``: legacy build fields (milliseconds, offset without colon);
* ``2023-02-03T10:15:45+00:00``: the ``expiresAt`` of a public artefact URL;
* ``2026-08-30T11:54:40.088000Z``: the v3 API (microseconds and ``Z``).

``datetime.fromisoformat`` accepts the first and last forms only from Python 3.11 on, and this
package supports 3.10, so the parser here is explicit.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_timestamp", "to_unix_seconds"]

_TIMESTAMP = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    [T\ ]
    (?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})
    (?:\.(?P<fraction>\d{1,9}))?
    (?P<offset>Z|z|[+-]\d{2}(?::?\d{2})?)?
    """,
    re.VERBOSE,
)


def parse_timestamp(value: str) -> datetime:
    """Parse a Codemagic timestamp into an aware :class:`~datetime.datetime`.

    Accepts a date and time separated by ``T`` or a space, an optional fraction of up to nine
    digits (cut to microseconds), and an offset written ``Z``, ``+HH``, ``+HHMM`` or
    ``+HH:MM``. A value without an offset is taken as UTC.

    Raises ``ValueError`` for anything else, quoting the value.
    """
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise ValueError(
            f"invalid timestamp {value!r}: expected a form such as "
            "2020-09-08T07:18:02.203+0000, 2023-02-03T10:15:45+00:00 or "
            "2026-08-30T11:54:40.088000Z"
        )

    fraction = match["fraction"] or ""
    microsecond = int(fraction[:6].ljust(6, "0")) if fraction else 0

    # NOTE: Codemagic documents its timestamps as UTC, so a value without an offset is
    # read as UTC rather than as local time.
    tzinfo = _parse_offset(value, match["offset"]) if match["offset"] else timezone.utc

    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            microsecond,
            tzinfo=tzinfo,
        )
    except ValueError as exc:
        raise ValueError(f"invalid timestamp {value!r}: {exc}") from None


def to_unix_seconds(value: datetime | int) -> int:
    """Convert an aware datetime or a UNIX time in seconds to whole UNIX seconds.

    Fractions of a second are dropped. Raises ``ValueError`` for a naive datetime, because
    its meaning depends on the machine's time zone, and for ``bool``, which is an ``int``
    only by accident.
    """
    if isinstance(value, bool):
        raise ValueError("expected a datetime or UNIX seconds as an int, got a bool")
    if isinstance(value, int):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"the datetime {value.isoformat()} has no time zone; "
            "pass an aware datetime such as datetime.now(timezone.utc) + timedelta(days=7)"
        )
    return int(value.timestamp())


def _parse_offset(value: str, text: str) -> timezone:
    if text in ("Z", "z"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours = int(digits[:2])
    minutes = int(digits[2:4]) if len(digits) > 2 else 0
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid timestamp {value!r}: the UTC offset {text!r} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
