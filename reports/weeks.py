"""ISO weeks in local time: the unit every weekly rate is counted in.

A week runs from Monday 00:00 to the next Monday 00:00, Asia/Ho_Chi_Minh. Pure functions, no
Django imports except gettext (the error messages are shown to users), so they are
table-tested on their own.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from core.timezones import LOCAL_TZ

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$")


class WeekError(ValueError):
    """A week string that is not a valid ISO week; the message is shown to users."""


def week_start(day: date) -> date:
    """The Monday of the ISO week that contains ``day``."""
    return day - timedelta(days=day.weekday())


def week_of(moment: datetime, tz: ZoneInfo = LOCAL_TZ) -> date:
    """The Monday of the local ISO week in which an aware datetime falls."""
    return week_start(moment.astimezone(tz).date())


def week_bounds(monday: date, tz: ZoneInfo = LOCAL_TZ) -> tuple[datetime, datetime]:
    """[start, end): Monday 00:00 to the next Monday 00:00, local time, as aware datetimes."""
    if monday.weekday() != 0:
        raise WeekError(_("%(day)s is not a Monday.") % {"day": monday.isoformat()})
    start = datetime.combine(monday, time.min, tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=tz)
    return start, end


def week_label(monday: date) -> str:
    """'2026-W05' for the week that starts on that Monday."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def weeks_in_year(year: int) -> int:
    """52 or 53: 28 December is always in the last ISO week of its year."""
    return date(year, 12, 28).isocalendar()[1]


def parse_week(text: str | None) -> date:
    """The Monday of an ISO week written ``YYYY-Www`` (also ``YYYYWww``).

    Raises :class:`WeekError` with a message saying what is wrong.
    """
    value = (text or "").strip().upper()
    if not value:
        raise WeekError(_("Enter a week as YYYY-Www, e.g. 2026-W05."))
    match = _WEEK_RE.match(value)
    if not match:
        raise WeekError(_("“%(text)s” is not a week; write it as YYYY-Www, e.g. 2026-W05.") % {"text": text})
    year, week = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9998:
        raise WeekError(_("The year %(year)s is out of range.") % {"year": year})
    last = weeks_in_year(year)
    if not 1 <= week <= last:
        raise WeekError(
            _("%(year)s has weeks 1 to %(last)s; week %(week)s does not exist.")
            % {"year": year, "last": last, "week": week}
        )
    return date.fromisocalendar(year, week, 1)


def weeks_ending(last_monday: date, count: int) -> list[date]:
    """``count`` consecutive Mondays, oldest first, the last being ``last_monday``."""
    if count < 1:
        raise WeekError(_("The number of weeks must be at least 1."))
    return [last_monday - timedelta(weeks=count - 1 - i) for i in range(count)]


def year_weeks_until(monday: date) -> list[date]:
    """The weeks of the ISO year of ``monday``, from week 1 up to and including ``monday``."""
    year = monday.isocalendar()[0]
    first = date.fromisocalendar(year, 1, 1)
    return weeks_ending(monday, (monday - first).days // 7 + 1)


def week_text(monday: date) -> str:
    """A week as people say it: 'Tuần 48/2026 (23/11–29/11)' ('Week 48/2026 (23/11–29/11)')."""
    year, week, _weekday = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    return _("Week %(week)s/%(year)s (%(start)s–%(end)s)") % {
        "week": week,
        "year": year,
        "start": f"{monday:%d/%m}",
        "end": f"{sunday:%d/%m}",
    }


def week_choices(selected: date, current: date) -> list[tuple[str, str]]:
    """(value, text) of the weeks a picker offers, newest first: from week 1 of the year before
    the selected week's up to the current week."""
    first = date.fromisocalendar(selected.isocalendar()[0] - 1, 1, 1)
    return [
        (week_label(monday), week_text(monday))
        for monday in reversed(weeks_ending(current, (current - first).days // 7 + 1))
    ]
