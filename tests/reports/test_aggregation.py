"""The weekly aggregation, measure by measure, and the rollup to districts and provinces."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers.models import Dossier
from postal.models import ItemEvent, PostalItem
from reports.models import COUNTERS, WeeklyRate
from reports.services import aggregation
from reports.services.aggregation import add_ancestors, compute_week, compute_weeks
from tests.reports.conftest import dossier, item, local, returned_to_sender_event

pytestmark = pytest.mark.django_db

WEEK = date(2026, 3, 2)  # Monday 02/03/2026
NEXT = date(2026, 3, 9)


def row(unit, monday=WEEK) -> dict:
    found = WeeklyRate.objects.filter(unit=unit, week_start=monday).values(*COUNTERS).first()
    return found or dict.fromkeys(COUNTERS, 0)


def test_week_starts_at_monday_midnight_local_time(procedure, commune):
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=local(2026, 3, 1, 23, 59, 59)),  # Sunday before
            dossier(procedure, commune, received_at=local(2026, 3, 2, 0, 0, 0)),  # Monday 00:00
            dossier(procedure, commune, received_at=local(2026, 3, 8, 23, 59, 59)),  # Sunday
            dossier(procedure, commune, received_at=local(2026, 3, 9, 0, 0, 0)),  # next Monday
        ]
    )
    compute_weeks(mondays=[date(2026, 2, 23), WEEK, NEXT])
    assert row(commune, date(2026, 2, 23))["received"] == 1
    assert row(commune, WEEK)["received"] == 2
    assert row(commune, NEXT)["received"] == 1


def test_received_by_channel_and_declines_by_reason(procedure, commune):
    at = local(2026, 3, 3)
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=at, intake_channel=3, return_channel="bcci"),
            dossier(procedure, commune, received_at=at, intake_channel=2, return_channel="online"),
            dossier(procedure, commune, received_at=at, intake_channel=1, decline_reason="fee"),
            dossier(procedure, commune, received_at=at, intake_channel=1, decline_reason="fee"),
            dossier(procedure, commune, received_at=at, intake_channel=1, decline_reason="worried_papers"),
            dossier(procedure, commune, received_at=at, intake_channel=1, decline_reason=""),
        ]
    )
    compute_week(monday=WEEK)
    counts = row(commune)
    assert (counts["received"], counts["received_bcci"], counts["received_online"]) == (6, 1, 1)
    assert counts["declined_fee"] == 2
    assert counts["declined_worried_papers"] == 1
    # The online return without a reason and the desk one without a reason are "not recorded".
    assert counts["declined_unrecorded"] == 2
    assert counts["declined_in_person"] == counts["declined_other"] == 0


def test_returned_and_finished_with_timeliness_leaving_out_withdrawn(procedure, commune):
    received = local(2026, 2, 20)
    Dossier.objects.bulk_create(
        [
            dossier(
                procedure,
                commune,
                received_at=received,
                status=10,
                returned_at=local(2026, 3, 4),
                return_channel="bcci",
                finished_at=local(2026, 3, 3),
                timeliness="early",
            ),
            dossier(
                procedure,
                commune,
                received_at=received,
                status=10,
                returned_at=local(2026, 3, 5),
                finished_at=local(2026, 3, 5),
                timeliness="on_time",
            ),
            dossier(
                procedure,
                commune,
                received_at=received,
                status=9,
                finished_at=local(2026, 3, 6),
                timeliness="late",
            ),
            dossier(
                procedure,
                commune,
                received_at=received,
                status=7,
                finished_at=local(2026, 3, 6),
                timeliness="late",
            ),
        ]
    )
    compute_week(monday=WEEK)
    counts = row(commune)
    assert (counts["returned"], counts["returned_bcci"]) == (2, 1)
    assert (
        counts["finished"],
        counts["finished_early"],
        counts["finished_on_time"],
        counts["finished_late"],
    ) == (
        3,
        1,
        1,
        1,
    )


def test_open_overdue_counts_what_was_open_at_the_end_of_the_week(procedure, commune):
    received = local(2026, 2, 23)
    Dossier.objects.bulk_create(
        [
            # Due Friday, still open: overdue.
            dossier(procedure, commune, received_at=received, due_date=date(2026, 3, 6)),
            # Due Friday, finished the next Monday: still open at week end, overdue.
            dossier(
                procedure,
                commune,
                received_at=received,
                due_date=date(2026, 3, 6),
                status=9,
                finished_at=local(2026, 3, 9, 8),
                timeliness="late",
            ),
            # Finished on Sunday 23:59: closed before the week ended.
            dossier(
                procedure,
                commune,
                received_at=received,
                due_date=date(2026, 3, 6),
                status=9,
                finished_at=local(2026, 3, 8, 23, 59),
                timeliness="late",
            ),
            # Due next Tuesday: not overdue yet.
            dossier(procedure, commune, received_at=received, due_date=date(2026, 3, 10)),
            # Withdrawn: left out.
            dossier(procedure, commune, received_at=received, due_date=date(2026, 3, 2), status=7),
            # Received after the week: not there yet.
            dossier(procedure, commune, received_at=local(2026, 3, 9, 7), due_date=date(2026, 3, 2)),
        ]
    )
    compute_week(monday=WEEK)
    assert row(commune)["open_overdue"] == 2


def test_items_on_target_by_local_delivery_date(procedure, commune, post_office):
    parent = dossier(procedure, commune, received_at=local(2026, 2, 20))
    Dossier.objects.bulk_create([parent])
    target = date(2026, 3, 4)
    PostalItem.objects.bulk_create(
        [
            item(
                parent,
                post_office,
                status="delivered",
                target_date=target,
                delivered_at=local(2026, 3, 4, 23, 30),
            ),
            # 00:30 local on the 5th is still the 4th in UTC: late all the same.
            item(
                parent,
                post_office,
                status="delivered",
                target_date=target,
                delivered_at=local(2026, 3, 5, 0, 30),
            ),
            item(parent, post_office, status="delivered", target_date=None, delivered_at=local(2026, 3, 5)),
            # Intake items are not deliveries of results.
            item(parent, post_office, direction="intake", status="delivered", delivered_at=local(2026, 3, 5)),
            # A failed delivery is no delivery.
            item(parent, post_office, status="delivery_failed", attempts=2, target_date=target),
        ]
    )
    compute_week(monday=WEEK)
    counts = row(commune)
    assert (counts["items_delivered"], counts["items_on_target"]) == (3, 1)


def test_items_returned_to_sender_counted_in_the_week_of_their_event(procedure, commune, post_office):
    parent = dossier(procedure, commune, received_at=local(2026, 2, 20))
    Dossier.objects.bulk_create([parent])
    first, second = PostalItem.objects.bulk_create(
        [
            item(parent, post_office, status="returned_to_sender"),
            item(parent, post_office, status="returned_to_sender"),
        ]
    )
    ItemEvent.objects.bulk_create(
        [
            returned_to_sender_event(first, local(2026, 3, 8, 23, 59)),
            returned_to_sender_event(first, local(2026, 3, 8, 23, 59, 30)),  # scanned twice
            returned_to_sender_event(second, local(2026, 3, 9, 0, 1)),
        ]
    )
    compute_weeks(mondays=[WEEK, NEXT])
    assert row(commune, WEEK)["items_returned_to_sender"] == 1
    assert row(commune, NEXT)["items_returned_to_sender"] == 1


def test_district_and_province_rows_are_sums_of_their_communes(
    procedure, province, district, commune, other_commune, far_commune
):
    at = local(2026, 3, 4)
    Dossier.objects.bulk_create(
        [dossier(procedure, commune, received_at=at, intake_channel=3) for _ in range(3)]
        + [dossier(procedure, other_commune, received_at=at) for _ in range(2)]
        + [dossier(procedure, far_commune, received_at=at, intake_channel=2)]
    )
    compute_week(monday=WEEK)
    assert row(district)["received"] == 5
    assert row(district)["received_bcci"] == 3
    assert row(province)["received"] == 6
    assert row(province)["received_online"] == 1
    for name in COUNTERS:
        assert row(district)[name] == row(commune)[name] + row(other_commune)[name]
        assert row(province)[name] == row(district)[name] + row(far_commune)[name]


def test_running_twice_gives_identical_rows(procedure, commune, other_commune):
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=local(2026, 3, 3), due_date=date(2026, 3, 4)),
            dossier(procedure, other_commune, received_at=local(2026, 3, 5), intake_channel=3),
        ]
    )

    def snapshot():
        return sorted(WeeklyRate.objects.values_list("unit_id", "week_start", *COUNTERS))

    compute_weeks(mondays=[WEEK, NEXT])
    first = snapshot()
    compute_weeks(mondays=[WEEK, NEXT])
    assert snapshot() == first
    # Week 1: both communes, the district, the province; week 2 only the overdue dossier of the
    # first commune and its district and province (units with nothing to count get no row).
    assert len(first) == 4 + 3


def test_a_failure_half_way_leaves_the_previous_rows(procedure, commune, monkeypatch):
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 3))])
    compute_week(monday=WEEK)
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 4))])

    def killed(*args, **kwargs):
        raise RuntimeError("worker killed")

    def deleted_then_killed(mondays, rates, computed):
        WeeklyRate.objects.filter(week_start__in=mondays).delete()
        killed()

    # Killed after the week's old rows were deleted, before the new ones are in (the ORM's
    # inserts, or PostgreSQL's two statements).
    monkeypatch.setattr(WeeklyRate.objects, "bulk_create", killed)
    monkeypatch.setattr(aggregation, "_replace_rows", deleted_then_killed)
    with pytest.raises(RuntimeError):
        compute_week(monday=WEEK)
    assert row(commune)["received"] == 1


def _queries_for(monday) -> int:
    with CaptureQueriesContext(connection) as captured:
        compute_week(monday=monday)
    return len(captured)


def test_one_grouped_query_per_measure_whatever_the_number_of_dossiers(procedure, commune, other_commune):
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 3))])
    few = _queries_for(WEEK)
    Dossier.objects.bulk_create(
        [
            dossier(
                procedure,
                u,
                received_at=local(2026, 3, 9 + i % 5),
                due_date=date(2026, 3, 10),
                intake_channel=1 + i % 3,
            )
            for i in range(60)
            for u in (commune, other_commune)
        ]
    )
    assert _queries_for(NEXT) == few


def test_add_ancestors_reads_only_the_chain_above_the_units(
    commune, other_commune, district, province, django_assert_num_queries
):
    parents: dict = {}
    with django_assert_num_queries(1):  # the communes and every unit above them, recursively
        add_ancestors({commune.pk, other_commune.pk}, parents)
    assert parents == {
        commune.pk: district.pk,
        other_commune.pk: district.pk,
        district.pk: province.pk,
        province.pk: None,
    }
    with django_assert_num_queries(0):  # everything known already
        add_ancestors({commune.pk}, parents)
