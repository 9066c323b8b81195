"""ISO weeks in local time, table-tested."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import translation

from reports.weeks import (
    WeekError,
    parse_week,
    week_bounds,
    week_label,
    week_of,
    weeks_ending,
    weeks_in_year,
    year_weeks_until,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English here; the Vietnamese ones in the view tests."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2026-W01", date(2025, 12, 29)),  # ISO week 1 of 2026 starts in December 2025
        ("2026-W05", date(2026, 1, 26)),
        ("2026w08", date(2026, 2, 16)),  # Tết week, lower case without the dash
        (" 2026-W8 ", date(2026, 2, 16)),
        ("2026-W53", date(2026, 12, 28)),  # 2026 has 53 ISO weeks
        ("2027-W01", date(2027, 1, 4)),
    ],
)
def test_parse_week(text, monday):
    assert parse_week(text) == monday


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-W54", "week 54 does not exist"),
        ("2025-W53", "week 53 does not exist"),  # 2025 has 52 weeks
        ("2026-W00", "week 0 does not exist"),
        ("2026-13", "is not a week"),
        ("", "Enter a week"),
        (None, "Enter a week"),
        ("W05-2026", "is not a week"),
        ("0000-W01", "out of range"),
    ],
)
def test_bad_week_strings_say_what_is_wrong(text, message):
    with pytest.raises(WeekError, match=message):
        parse_week(text)


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        # Sunday 16:59:59 UTC = Sunday 23:59:59 in Vietnam: still the old week.
        (datetime(2026, 3, 8, 16, 59, 59, tzinfo=UTC), date(2026, 3, 2)),
        # Sunday 17:00 UTC = Monday 00:00 in Vietnam: the new week.
        (datetime(2026, 3, 8, 17, 0, 0, tzinfo=UTC), date(2026, 3, 9)),
        (datetime(2026, 1, 1, 0, 0, tzinfo=UTC), date(2025, 12, 29)),  # Thursday
    ],
)
def test_week_of_uses_local_time(moment, monday):
    assert week_of(moment) == monday


def test_week_bounds_are_monday_midnight_to_monday_midnight_local():
    start, end = week_bounds(date(2026, 3, 2))
    assert start.isoformat() == "2026-03-02T00:00:00+07:00"
    assert end.isoformat() == "2026-03-09T00:00:00+07:00"
    with pytest.raises(WeekError, match="not a Monday"):
        week_bounds(date(2026, 3, 3))


@pytest.mark.parametrize(("year", "weeks"), [(2020, 53), (2025, 52), (2026, 53), (2027, 52)])
def test_weeks_in_year(year, weeks):
    assert weeks_in_year(year) == weeks


def test_labels_and_ranges():
    assert week_label(date(2025, 12, 29)) == "2026-W01"
    assert weeks_ending(date(2026, 1, 12), 3) == [date(2025, 12, 29), date(2026, 1, 5), date(2026, 1, 12)]
    assert year_weeks_until(date(2026, 1, 12)) == [date(2025, 12, 29), date(2026, 1, 5), date(2026, 1, 12)]
    with pytest.raises(WeekError):
        weeks_ending(date(2026, 1, 12), 0)
