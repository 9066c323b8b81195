"""The local time zone and the few conversions every app needs (no Django imports: the pure
calendar module uses them too)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

# Dates on screens, deadlines and report weeks are all local dates of Vietnam.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_date(moment: datetime) -> date:
    """The local calendar date of an aware datetime."""
    return moment.astimezone(LOCAL_TZ).date()


def aware(moment: datetime) -> datetime:
    """A naive datetime read as local time; an aware one unchanged."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment
