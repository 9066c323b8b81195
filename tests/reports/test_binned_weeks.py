"""The two ways of finding a row's week give the same rows.

On PostgreSQL the weekly aggregation bins timestamps with date_bin from the first Monday 00:00
local time; elsewhere, or when the span crosses a change of UTC offset, it uses the portable
CASE over the week boundaries (reports.services.aggregation.Span). The random data of the
independent computation test, plus rows on the exact edges, must give identical counts and
identical WeeklyRate rows both ways.
"""

from __future__ import annotations

import functools
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from dossiers.models import Dossier
from postal.models import ItemEvent, PostalItem
from reports.models import COUNTERS, WeeklyRate
from reports.services import aggregation
from reports.services.aggregation import Span, compute_weeks, span_counts
from reports.weeks import week_bounds
from tests.reports.conftest import VN, dossier, item
from tests.reports.test_independent_counts import WEEKS, build

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"
FIRST, AFTER = week_bounds(WEEKS[0])[0], week_bounds(WEEKS[-1])[1]
TICK = timedelta(microseconds=1)


def edge_rows(procedure, unit, post_office):
    """Rows a microsecond either side of the span's ends, due dates long before it, dossiers
    received long before it and still open, NULLs."""
    long_ago = datetime(2024, 6, 3, 9, 0, tzinfo=VN)
    rows = [
        dossier(procedure, unit, received_at=FIRST - TICK, due_date=WEEKS[0] - timedelta(days=1)),
        dossier(procedure, unit, received_at=FIRST, due_date=WEEKS[0], intake_channel=3),
        dossier(procedure, unit, received_at=AFTER - TICK, due_date=WEEKS[-1], intake_channel=2),
        dossier(procedure, unit, received_at=AFTER, due_date=WEEKS[-1]),
        # Open since long before the span, due long before it: overdue every week.
        dossier(procedure, unit, received_at=long_ago, due_date=date(2001, 1, 1)),
        # Due on a Sunday, on a Monday, after the span.
        dossier(procedure, unit, received_at=FIRST, due_date=WEEKS[2] + timedelta(days=6)),
        dossier(procedure, unit, received_at=FIRST, due_date=WEEKS[3]),
        dossier(procedure, unit, received_at=FIRST, due_date=WEEKS[-1] + timedelta(days=8)),
        # Finished exactly when a week ends, returned a microsecond before the next one ends.
        dossier(
            procedure,
            unit,
            received_at=long_ago,
            due_date=WEEKS[0],
            status=10,
            finished_at=week_bounds(WEEKS[1])[1],
            timeliness="late",
            returned_at=week_bounds(WEEKS[2])[1] - TICK,
            return_channel="bcci",
        ),
        # Finished before the span, returned after it.
        dossier(
            procedure,
            unit,
            received_at=long_ago,
            due_date=WEEKS[0],
            status=10,
            finished_at=FIRST - TICK,
            timeliness="late",
            returned_at=AFTER,
        ),
        # Finished after the span, never returned.
        dossier(
            procedure,
            unit,
            received_at=long_ago,
            due_date=WEEKS[1],
            status=9,
            finished_at=AFTER,
            timeliness="late",
        ),
    ]
    Dossier.objects.bulk_create(rows)
    items = PostalItem.objects.bulk_create(
        [
            item(rows[1], post_office, status="delivered", target_date=WEEKS[0], delivered_at=FIRST),
            item(rows[1], post_office, status="delivered", target_date=WEEKS[0], delivered_at=FIRST - TICK),
            item(rows[2], post_office, status="delivered", target_date=WEEKS[-1], delivered_at=AFTER - TICK),
            item(rows[2], post_office, status="returned_to_sender"),
        ]
    )
    ItemEvent.objects.bulk_create(
        [
            ItemEvent(
                item=items[3],
                at=AFTER - TICK,
                action="item.returned_to_sender",
                to_status="returned_to_sender",
            ),
            ItemEvent(
                item=items[3], at=AFTER, action="item.returned_to_sender", to_status="returned_to_sender"
            ),
        ]
    )


def snapshot():
    return sorted(WeeklyRate.objects.values_list("unit_id", "week_start", *COUNTERS))


@pytest.mark.parametrize("seed", [7, 2026])
def test_binned_weeks_give_the_rows_of_the_portable_weeks(
    seed,
    monkeypatch,
    procedure,
    province,
    district,
    commune,
    other_commune,
    far_commune,
    post_office,
    official,
):
    build(random.Random(seed), procedure, [commune, other_commune, far_commune], post_office, official)
    edge_rows(procedure, far_commune, post_office)
    portable = span_counts(Span(WEEKS, binned=False))
    assert any(portable[monday] for monday in WEEKS), "the scenario produced data"

    if not ON_POSTGRESQL:
        # No date_bin here: the portable weeks are the only ones.
        assert not Span(WEEKS).binned
        with pytest.raises(ValueError):
            Span(WEEKS, binned=True)
        return

    assert Span(WEEKS).binned, "PostgreSQL bins the weeks of Asia/Ho_Chi_Minh"
    assert span_counts(Span(WEEKS, binned=True)) == portable
    # A span that starts or ends elsewhere bins from its own first Monday.
    for part in (WEEKS[:1], WEEKS[2:5], WEEKS[-2:]):
        assert span_counts(Span(part, binned=True)) == span_counts(Span(part, binned=False)), part

    compute_weeks(mondays=WEEKS)
    binned_rows = snapshot()
    monkeypatch.setattr(aggregation, "Span", functools.partial(Span, binned=False))
    compute_weeks(mondays=WEEKS)
    assert snapshot() == binned_rows


def test_weeks_are_binned_only_on_postgresql_and_with_one_utc_offset(monkeypatch):
    assert Span(WEEKS).binned is ON_POSTGRESQL  # Asia/Ho_Chi_Minh: +07:00 all year
    # In a zone with daylight saving the boundaries of a week over the change are 167 hours
    # apart: the portable weeks are used there (Europe/Paris changes on 29/03/2026).
    paris = ZoneInfo("Europe/Paris")
    monkeypatch.setattr(aggregation, "week_bounds", lambda monday: week_bounds(monday, paris))
    assert Span([date(2026, 3, 9), date(2026, 3, 16)]).binned is ON_POSTGRESQL
    assert not Span([date(2026, 3, 16), date(2026, 3, 23)]).binned
    assert not Span([date(2026, 3, 23)]).binned
    with pytest.raises(ValueError):
        Span([date(2026, 3, 23)], binned=True)


def test_a_row_a_microsecond_before_monday_is_in_the_week_before(procedure, commune):
    monday = WEEKS[3]
    start = datetime.combine(monday, time.min, tzinfo=VN)
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=start - TICK),
            dossier(procedure, commune, received_at=start),
            dossier(procedure, commune, received_at=start + timedelta(days=7) - TICK),
        ]
    )
    counts = span_counts(Span(WEEKS))
    assert counts[monday - timedelta(weeks=1)][commune.pk]["received"] == 1
    assert counts[monday][commune.pk]["received"] == 2
