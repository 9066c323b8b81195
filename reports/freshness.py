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
from django.db.models import Max, Min
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import ngettext

from communes.models import DirtyWeek
from core.replica import primary_reads
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
    return int(getattr(settings, "REPORTS_REFRESH_DELAY", 20))


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


def _queue(countdown: int) -> None:
    """Send ``reports.process_dirty_weeks`` (reports/tasks.py) by name: the tasks module calls
    this one, not the other way round."""
    from celery import current_app

    current_app.send_task("reports.process_dirty_weeks", countdown=countdown)


def _send() -> None:
    try:
        _queue(delay_seconds())
    except Exception as exc:  # kombu/redis raise many kinds; all mean "not queued"
        log.warning("recount after a write not queued: %s", type(exc).__name__)
        record_problem("queue", type(exc).__name__)
        return
    clear_problem("queue")


def auto_refresh() -> bool:
    """False only when REPORTS_AUTO_REFRESH is off: marks then wait for the beat (with a worker)
    or for a recount by hand; the benchmark measures the intake cost without freshness so."""
    return bool(getattr(settings, "REPORTS_AUTO_REFRESH", True))


def request_refresh() -> None:
    """Called once a transaction that marked weeks has committed (communes.weekmarks). Costs the
    write nothing on the embedded default, and one cache round trip at most with a worker."""
    if not auto_refresh() or eager():
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
    """Recount the marked (unit, week) pairs (and the units above them; whole weeks for weeks
    never computed or marked for many units: reports.services.recount); the rows written.
    Records a failure for the freshness line and raises it again."""
    from reports.services import recount

    try:
        written = recount.recount_marked()
    except ComputationBusy:
        raise
    except Exception as exc:
        record_problem("failed", type(exc).__name__)
        raise
    clear_problem("failed")
    return written


def refresh_if_due(now: datetime | None = None) -> bool:
    """On the embedded default, recount what readers would otherwise see stale; True when it
    recounted. With a worker this does nothing: the worker recounts. Reads the primary, even
    on a page that reads from a replica."""
    if not eager() or not auto_refresh():
        return False
    with primary_reads():
        return _refresh(now)


def _refresh(now: datetime | None) -> bool:
    """Debounced and coalesced: the marks wait until the oldest is ``REPORTS_REFRESH_DELAY``
    old, so a burst of intakes shares one recount per delay window, however often the
    dashboard is read; that recount covers only the marked units (reports.services.recount).
    The week in progress is recounted whole when its last whole count is older than
    ``CURRENT_WEEK_MAX_AGE``. Two small queries when nothing is due."""
    from reports.services import aggregation, recount

    now = now or timezone.now()
    monday = aggregation.current_monday()
    last = (
        ComputedWeek.objects.filter(week_start=monday)
        .values_list(Coalesce("counted_whole_at", "computed_at"), flat=True)
        .first()
    )
    whole = last is None or now - last >= CURRENT_WEEK_MAX_AGE
    oldest = DirtyWeek.objects.aggregate(at=Min("marked_at"))["at"]
    marks_due = oldest is not None and now - oldest >= timedelta(seconds=delay_seconds())
    if not whole and not marks_due:
        return False
    try:
        if whole:
            aggregation.compute_weeks(mondays=[monday])
        if marks_due:
            recount.recount_marked()
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
    oldest = marks.aggregate(oldest=Min("marked_at"))["oldest"]
    # A pair marked by several writes has several rows: count the pairs (only when some wait).
    count = marks.values("unit_id", "week_start").distinct().count() if oldest is not None else 0
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
