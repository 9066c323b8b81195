"""The local time zone and the few conversions every app needs (no Django imports: the pure
calendar module uses them too)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# Dates on screens, deadlines and report weeks are all local dates of Vietnam.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# A time typed a little ahead of the server clock is a clock difference between the desk's PC
# and the server, not a time in the future.
FUTURE_TOLERANCE = timedelta(minutes=2)


def local_date(moment: datetime) -> date:
    """The local calendar date of an aware datetime."""
    return moment.astimezone(LOCAL_TZ).date()


def aware(moment: datetime) -> datetime:
    """A naive datetime read as local time; an aware one unchanged."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment
