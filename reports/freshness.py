"""Fresh within a minute: the recount that follows writes, debounced, and what the dashboard
says about the age of its figures.

Writers mark the (unit, week) pairs they change (``communes.weekmarks``). After their
transaction commits, ``request_refresh`` runs:

- with a broker and a worker, the first write of a burst queues ``reports.process_dirty_weeks``
  to run ``REPORTS_REFRESH_DELAY`` seconds later and holds a cache key as long; the other writes
  of the burst find the key and queue nothing, so a burst of 1,000 intakes costs one recount per
  delay window. The beat runs the same task every minute as a backstop (a key that outlived a
  lost task, a worker restarted), so a mark never waits more than a minute for a worker that
  runs. Queueing happens on a short-lived thread: a broker that does not answer never holds up
  the write, and the failure is remembered for the freshness line;
- on the embedded default (no broker: eager Celery, no worker, no beat) nothing runs in the
  background, so the readers recount: ``refresh_if_due`` (dashboard, exports) recounts the
  marked weeks when the last recount is older than the delay, and the week in progress when it
  is older than ``CURRENT_WEEK_MAX_AGE`` (dossiers become overdue at midnight without a write).

``freshness(first, last)`` tells the page how old the figures are and, when changes wait longer
than ``REPORTS_STALE_SECONDS``, why: the queue did not answer, the last recount failed, or no
recount ran (no worker).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import ngettext

from communes.models import DirtyWeek
from reports.locks import ComputationBusy
from reports.models import ComputedWeek

log = logging.getLogger(__name__)

PENDING_KEY = "postdesk:reports:refresh-pending"
PROBLEM_KEY = "postdesk:reports:refresh-problem"
PROBLEM_SECONDS = 24 * 3600
# The week in progress changes without writes (a dossier becomes overdue at midnight): the beat
# recounts it every 15 minutes, and readers on the embedded default do the same.
CURRENT_WEEK_MAX_AGE = timedelta(minutes=15)


def delay_seconds() -> int:
    return int(getattr(settings, "REPORTS_REFRESH_DELAY", 10))


def stale_seconds() -> int:
    return int(getattr(settings, "REPORTS_STALE_SECONDS", 90))


def eager() -> bool:
    from celery import current_app

    return bool(current_app.conf.task_always_eager)


# --- problems remembered for the freshness line ----------------------------------------------------


def record_problem(kind: str, detail: str = "") -> None:
    """``kind``: "queue" (the broker did not take the task) or "failed" (a recount raised)."""
    try:
        cache.set(PROBLEM_KEY, {"kind": kind, "at": timezone.now(), "detail": detail[:200]}, PROBLEM_SECONDS)
    except Exception:  # a cache that is down must not turn a write into an error
        log.warning("freshness problem not recorded", exc_info=True)


def clear_problem(kind: str) -> None:
    try:
        problem = cache.get(PROBLEM_KEY)
        if problem and problem.get("kind") == kind:
            cache.delete(PROBLEM_KEY)
    except Exception:
        log.warning("freshness problem not cleared", exc_info=True)


def last_problem() -> dict | None:
    try:
        return cache.get(PROBLEM_KEY)
    except Exception:
        return None


# --- after a write ------------------------------------------------------------------------------


def _send() -> None:
    # By name: reports.tasks imports this module (the import layers allow no cycle).
    from celery import current_app

    try:
        current_app.tasks["reports.process_dirty_weeks"].apply_async(countdown=delay_seconds())
    except Exception as exc:  # kombu/redis raise many kinds; all mean "not queued"
        log.warning("recount after a write not queued: %s", type(exc).__name__)
        record_problem("queue", type(exc).__name__)
        return
    clear_problem("queue")


def request_refresh() -> None:
    """Called once a transaction that marked weeks has committed (communes.weekmarks)."""
    if eager():
        return  # the embedded default recounts when the figures are read (refresh_if_due)
    try:
        first_of_burst = cache.add(PENDING_KEY, timezone.now(), max(delay_seconds(), 1))
    except Exception:
        first_of_burst = True  # no cache: queue every time rather than never
    if first_of_burst:
        _in_background(_send)


def _in_background(function) -> None:
    """Queue from a short-lived thread: a broker that does not answer holds up no request."""
    threading.Thread(target=function, name="reports-refresh-send", daemon=True).start()


# --- recounting ---------------------------------------------------------------------------------


def process_marked_weeks() -> int:
    """Recount every marked week (and nothing else); the rows written. Records a failure for the
    freshness line and raises it again."""
    from reports.services import aggregation

    weeks = aggregation.dirty_weeks()
    if not weeks:
        return 0
    try:
        written = aggregation.compute_weeks(mondays=weeks)
    except ComputationBusy:
        raise
    except Exception as exc:
        record_problem("failed", type(exc).__name__)
        raise
    clear_problem("failed")
    return written


def refresh_if_due(now: datetime | None = None) -> bool:
    """On the embedded default, recount what readers would otherwise see stale; True when it
    recounted. With a worker this does nothing: the worker recounts."""
    if not eager():
        return False
    from reports.services import aggregation

    now = now or timezone.now()
    monday = aggregation.current_monday()
    last = ComputedWeek.objects.filter(week_start=monday).values_list("computed_at", flat=True).first()
    weeks = set(aggregation.dirty_weeks())
    recent = last is not None and now - last < timedelta(seconds=delay_seconds())
    if weeks and recent:
        weeks = set()  # debounce: the burst in progress is counted at the next read after the delay
    if last is None or now - last >= CURRENT_WEEK_MAX_AGE:
        weeks.add(monday)
    if not weeks:
        return False
    try:
        aggregation.compute_weeks(mondays=sorted(weeks))
    except ComputationBusy:
        return False  # somebody else is recounting right now
    except Exception as exc:
        log.exception("recount on read failed")
        record_problem("failed", type(exc).__name__)
        return False
    clear_problem("failed")
    return True


# --- what the page says -------------------------------------------------------------------------


@dataclass
class Freshness:
    computed_at: datetime | None
    waiting: int  # marked (unit, week) pairs of the period not yet recounted
    oldest_mark: datetime | None
    state: str  # "never", "fresh", "counting", "late"
    reason: str  # for "late": "queue", "failed" or "no_run"
    problem_at: datetime | None = None

    @property
    def age_seconds(self) -> int | None:
        if self.computed_at is None:
            return None
        return max(0, int((timezone.now() - self.computed_at).total_seconds()))

    @property
    def age_text(self) -> str:
        """How long ago, in the largest whole unit: '40 giây', '3 phút', '2 giờ', '5 ngày'."""
        seconds = self.age_seconds or 0
        if seconds < 60:
            return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
        if seconds < 3600:
            return ngettext("%(n)d minute", "%(n)d minutes", seconds // 60) % {"n": seconds // 60}
        if seconds < 86400:
            return ngettext("%(n)d hour", "%(n)d hours", seconds // 3600) % {"n": seconds // 3600}
        return ngettext("%(n)d day", "%(n)d days", seconds // 86400) % {"n": seconds // 86400}


def freshness(first: date, last: date, now: datetime | None = None) -> Freshness:
    """How old the figures of the weeks first..last are, and whether changes wait (two queries)."""
    now = now or timezone.now()
    computed = ComputedWeek.objects.filter(week_start__gte=first, week_start__lte=last).aggregate(
        at=Max("computed_at")
    )["at"]
    marks = DirtyWeek.objects.filter(week_start__gte=first, week_start__lte=last)
    waiting = marks.aggregate(n=Count("*"), oldest=Min("marked_at"))
    count, oldest = waiting["n"], waiting["oldest"]
    if computed is None:
        state, reason = "never", ""
    elif not count:
        state, reason = "fresh", ""
    elif now - oldest < timedelta(seconds=stale_seconds()):
        state, reason = "counting", ""
    else:
        state = "late"
        problem = last_problem()
        reason = problem["kind"] if problem else "no_run"
        return Freshness(computed, count, oldest, state, reason, problem["at"] if problem else None)
    return Freshness(computed, count, oldest, state, reason)
