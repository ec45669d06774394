from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pulumi_codemagic.timestamps import parse_timestamp, to_unix_seconds

UTC = timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-09-08T07:18:02.203+0000", datetime(2020, 9, 8, 7, 18, 2, 203000, tzinfo=UTC)),
        ("2023-02-03T10:15:45+00:00", datetime(2023, 2, 3, 10, 15, 45, tzinfo=UTC)),
        ("2026-08-30T11:54:40.088000Z", datetime(2026, 8, 30, 11, 54, 40, 88000, tzinfo=UTC)),
    ],
    ids=["legacy-offset-without-colon", "public-url-offset-with-colon", "v3-zulu"],
)
def test_parse_timestamp_codemagic_forms(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)

    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-09-08T07:18:02+0200", datetime(2020, 9, 8, 5, 18, 2, tzinfo=UTC)),
        ("2020-09-08T07:18:02-05:30", datetime(2020, 9, 8, 12, 48, 2, tzinfo=UTC)),
        ("2020-09-08T07:18:02+02", datetime(2020, 9, 8, 5, 18, 2, tzinfo=UTC)),
        ("2020-09-08 07:18:02z", datetime(2020, 9, 8, 7, 18, 2, tzinfo=UTC)),
        ("2020-09-08T07:18:02.123456789Z", datetime(2020, 9, 8, 7, 18, 2, 123456, tzinfo=UTC)),
        ("2020-09-08T07:18:02.5Z", datetime(2020, 9, 8, 7, 18, 2, 500000, tzinfo=UTC)),
        ("2020-09-08T07:18:02", datetime(2020, 9, 8, 7, 18, 2, tzinfo=UTC)),
        (" 2020-09-08T07:18:02Z\n", datetime(2020, 9, 8, 7, 18, 2, tzinfo=UTC)),
    ],
    ids=[
        "positive-offset",
        "negative-offset-with-minutes",
        "hours-only-offset",
        "space-separator-lower-z",
        "nanoseconds-cut-to-microseconds",
        "one-digit-fraction",
        "no-offset-is-utc",
        "surrounding-whitespace",
    ],
)
def test_parse_timestamp_variants(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_parse_timestamp_result_is_aware() -> None:
    assert parse_timestamp("2020-09-08T07:18:02.203+0000").tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2020-09-08",
        "2020-09-08T07:18",
        "2020-13-08T07:18:02Z",
        "2020-02-30T07:18:02Z",
        "2020-09-08T07:18:02+2400",
        "2020-09-08T07:18:02.Z",
    ],
    ids=[
        "empty",
        "word",
        "date-only",
        "no-seconds",
        "month-13",
        "february-30",
        "offset-24-hours",
        "empty-fraction",
    ],
)
def test_parse_timestamp_rejects_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="invalid timestamp"):
        parse_timestamp(text)


def test_to_unix_seconds_from_aware_datetime() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)

    assert to_unix_seconds(moment) == 1767225600


def test_to_unix_seconds_drops_fraction() -> None:
    moment = datetime(2026, 1, 1, 0, 0, 0, 900000, tzinfo=UTC)

    assert to_unix_seconds(moment) == 1767225600


def test_to_unix_seconds_keeps_int() -> None:
    assert to_unix_seconds(1767225600) == 1767225600


def test_to_unix_seconds_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        to_unix_seconds(datetime(2026, 1, 1))


def test_to_unix_seconds_rejects_bool() -> None:
    with pytest.raises(ValueError, match="got a bool"):
        to_unix_seconds(True)
