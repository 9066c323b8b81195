"""Every counter and rate checked against an independent computation.

The expected counts are computed here in plain Python over the rows the test creates, without
any code of the reports app: data crossing week boundaries at midnight local time, Tết 2026,
supplement cycles, extensions, failed deliveries, returns to the agency and backdated imports.
The same test runs on SQLite and on PostgreSQL (CI), so both give identical rows.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from dossiers.models import Dossier, DossierEvent, Extension, SupplementRequest
from postal.models import DeliveryAttempt, ItemEvent, PostalItem
from reports import selectors
from reports.models import WeeklyRate
from reports.services.aggregation import compute_weeks
from tests.reports.conftest import VN, dossier, item

pytestmark = pytest.mark.django_db

FIRST_MONDAY = date(2026, 1, 26)
WEEKS = [FIRST_MONDAY + timedelta(weeks=n) for n in range(7)]  # to 15/03/2026, Tết in the middle
NAMES = [
    "received",
    "received_bcci",
    "received_online",
    "returned",
    "returned_bcci",
    "finished",
    "finished_early",
    "finished_on_time",
    "finished_late",
    "open_overdue",
    "items_delivered",
    "items_on_target",
    "items_returned_to_sender",
    "declined_in_person",
    "declined_worried_papers",
    "declined_fee",
    "declined_unaware",
    "declined_urgent",
    "declined_other",
    "declined_unrecorded",
]
REASONS = ["in_person", "worried_papers", "fee", "unaware", "urgent", "other", ""]
TET = [date(2026, 2, 14) + timedelta(days=n) for n in range(9)]


def monday_of(moment: datetime) -> date:
    day = moment.astimezone(VN).date()
    return day - timedelta(days=day.weekday())


def random_moment(rng: random.Random) -> datetime:
    """Mostly office hours, often exactly at the edges of a week in local time."""
    monday = rng.choice([*WEEKS, WEEKS[0] - timedelta(weeks=2)])
    kind = rng.random()
    if kind < 0.15:  # the last second of Sunday, local
        return datetime.combine(monday + timedelta(days=6), time(23, 59, 59), tzinfo=VN)
    if kind < 0.30:  # Monday 00:00 local (Sunday 17:00 UTC)
        return datetime.combine(monday, time(0, 0), tzinfo=VN)
    day = monday + timedelta(days=rng.randrange(7))
    return datetime.combine(day, time(rng.randrange(7, 18), rng.randrange(60)), tzinfo=VN)


def next_working_day(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in TET:
            n -= 1
    return day


def build(rng, procedure, units, post_office, official):
    dossiers, extensions, supplements = [], [], []
    for _ in range(240):
        unit = rng.choice(units)
        received = random_moment(rng)
        intake = rng.choice([1, 1, 2, 3])
        channel = rng.choice(["desk", "online", "bcci", "bcci"])
        reason = "" if channel == "bcci" else rng.choice(REASONS)
        due = next_working_day(received.astimezone(VN).date(), rng.choice([0, 1, 3, 5, 10]))
        original = due
        fields = {}
        roll = rng.random()
        if roll < 0.15:  # extension (Phiếu xin lỗi): a new, later date
            due = next_working_day(due, 3)
            fields["extended_from"] = original
        elif roll < 0.3:  # supplement cycle: the deadline restarts on completion
            due = next_working_day(due, rng.choice([2, 4]))
            fields["supplemented"] = True
        status = rng.choice([1, 2, 4, 5, 6, 7, 8, 9, 10, 10, 10])
        finished = returned = None
        timeliness = ""
        # Half of the withdrawn dossiers were withdrawn before processing ended.
        if status in (8, 9, 10) or (status == 7 and rng.random() < 0.5):
            finished = received + timedelta(
                hours=rng.choice([0, 5, 30, 100, 200, 400]), minutes=rng.randrange(60)
            )
            local_day = finished.astimezone(VN).date()
            timeliness = "early" if local_day < due else ("on_time" if local_day == due else "late")
            if status == 7 and rng.random() < 0.5:
                timeliness = ""
        if status == 10:
            returned = finished + timedelta(hours=rng.choice([0, 2, 26, 90]))
        d = dossier(
            procedure,
            unit,
            received_at=received,
            intake_channel=intake,
            return_channel=channel,
            decline_reason=reason,
            status=status,
            due_date=due,
            original_due_date=original,
            finished_at=finished,
            returned_at=returned,
            timeliness=timeliness,
        )
        d._test = fields
        dossiers.append(d)
    # A backdated import: entered now, received weeks ago, already returned.
    old = datetime(2026, 2, 2, 8, 0, tzinfo=VN)
    for unit in units:
        dossiers.append(
            dossier(
                procedure,
                unit,
                received_at=old,
                status=10,
                due_date=date(2026, 2, 5),
                original_due_date=date(2026, 2, 5),
                finished_at=old + timedelta(days=2),
                returned_at=old + timedelta(days=3),
                timeliness="early",
                return_channel="bcci",
            )
        )
    Dossier.objects.bulk_create(dossiers)
    payments = []
    for d in dossiers:
        info = getattr(d, "_test", {})
        if "extended_from" in info:
            extensions.append(
                Extension(
                    dossier=d,
                    issued_at=d.received_at,
                    issued_by=official,
                    reason="Chờ xác minh",
                    previous_due_date=info["extended_from"],
                    new_due_date=d.due_date,
                )
            )
        if info.get("supplemented"):
            supplements.append(
                SupplementRequest(
                    dossier=d,
                    requested_at=d.received_at,
                    requested_by=official,
                    items="Bản sao CCCD",
                    completed_at=d.received_at + timedelta(days=2),
                )
            )
        # Waiting on the citizen now: most since a recorded moment (an open supplement request,
        # a request for a financial obligation), the others without a record (since reception).
        if d.status in (5, 6) and rng.random() < 0.7:
            d.paused_since = d.received_at + timedelta(hours=rng.choice([0, 20, 100, 300, 700]))
            if d.status == 5:
                supplements.append(
                    SupplementRequest(
                        dossier=d, requested_at=d.paused_since, requested_by=official, items="Tờ khai"
                    )
                )
            else:
                payments.append(
                    DossierEvent(
                        dossier=d, at=d.paused_since, action="dossier.payment_requested", to_status=6
                    )
                )
        elif d.status in (5, 6):
            d.paused_since = d.received_at
        else:
            d.paused_since = None
    Extension.objects.bulk_create(extensions)
    SupplementRequest.objects.bulk_create(supplements)
    DossierEvent.objects.bulk_create(payments)

    items, events, attempts = [], [], []
    for d in dossiers:
        if d.return_channel != "bcci" or d.finished_at is None:
            continue
        handover = d.finished_at.astimezone(VN).date()
        target = next_working_day(handover, rng.choice([1, 2]))
        outcome = rng.random()
        if outcome < 0.6 and d.returned_at is not None:
            delivered = datetime.combine(
                target + timedelta(days=rng.choice([-1, 0, 0, 1])),
                time(rng.choice([0, 10, 23]), 30),
                tzinfo=VN,
            )
            items.append(
                item(
                    d,
                    post_office,
                    status="delivered",
                    handover_date=handover,
                    target_date=target,
                    delivered_at=delivered,
                    attempts=1,
                )
            )
        elif outcome < 0.85:
            failed = item(
                d,
                post_office,
                status="returned_to_sender",
                handover_date=handover,
                target_date=target,
                attempts=2,
            )
            items.append(failed)
            back = datetime.combine(next_working_day(target, 2), time(rng.choice([0, 16, 23]), 59), tzinfo=VN)
            events.append((failed, back))
            if rng.random() < 0.3:  # scanned again a few minutes later: still one item
                events.append((failed, back + timedelta(minutes=rng.choice([1, 3]))))
            attempts.append((failed, target))
        else:
            failed = item(
                d,
                post_office,
                status="delivery_failed",
                handover_date=handover,
                target_date=target,
                attempts=1,
            )
            items.append(failed)
            attempts.append((failed, target))
    # An intake item delivered to the desk: not a delivery of a result.
    items.append(
        item(
            dossiers[0],
            post_office,
            direction="intake",
            status="delivered",
            delivered_at=dossiers[0].received_at,
        )
    )
    PostalItem.objects.bulk_create(items)
    ItemEvent.objects.bulk_create(
        ItemEvent(item=i, at=at, action="item.returned_to_sender", to_status="returned_to_sender")
        for i, at in events
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            item=i, at=datetime.combine(day, time(10), tzinfo=VN), outcome="not_home", by=official
        )
        for i, day in attempts
    )
    return dossiers, items, events


def expected_counts(dossiers, items, events, units) -> dict[tuple[int, date], dict[str, int]]:
    """Plain Python over the created rows, following docs/reports.md."""
    out: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(NAMES, 0))
    for monday in WEEKS:
        start = datetime.combine(monday, time(0), tzinfo=VN)
        end = start + timedelta(days=7)
        for d in dossiers:
            c = out[(d.receiving_unit_id, monday)]
            if start <= d.received_at < end:
                c["received"] += 1
                c["received_bcci"] += d.intake_channel == 3
                c["received_online"] += d.intake_channel == 2
                if d.return_channel != "bcci":
                    key = {"": "declined_unrecorded"}.get(d.decline_reason, f"declined_{d.decline_reason}")
                    c[key] += 1
            if d.returned_at and start <= d.returned_at < end:
                c["returned"] += 1
                c["returned_bcci"] += d.return_channel == "bcci"
            if d.finished_at and start <= d.finished_at < end and d.status != 7 and d.timeliness:
                c["finished"] += 1
                c[f"finished_{d.timeliness}"] += 1
            still_open = (d.finished_at is None or d.finished_at >= end) and (
                d.returned_at is None or d.returned_at >= end
            )
            clock_running = d.paused_since is None or d.paused_since >= end
            if (
                d.received_at < end
                and d.status != 7
                and still_open
                and clock_running
                and d.due_date <= monday + timedelta(days=6)
            ):
                c["open_overdue"] += 1
        for i in items:
            if i.direction == "return" and i.delivered_at and start <= i.delivered_at < end:
                c = out[(i.dossier.receiving_unit_id, monday)]
                c["items_delivered"] += 1
                c["items_on_target"] += (
                    bool(i.target_date) and i.delivered_at.astimezone(VN).date() <= i.target_date
                )
        for i in {i for i, at in events if start <= at < end}:
            out[(i.dossier.receiving_unit_id, monday)]["items_returned_to_sender"] += 1
    return out


def roll_up(per_commune, groups) -> dict[tuple[int, date], dict[str, int]]:
    rows = {}
    for unit_id, members in groups.items():
        for monday in WEEKS:
            total = {name: sum(per_commune[(m, monday)][name] for m in members) for name in NAMES}
            if any(total.values()):
                rows[(unit_id, monday)] = total
    return rows


def percent(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(100) * numerator / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("seed", [1, 2026])
def test_every_counter_matches_an_independent_computation(
    seed, procedure, province, district, commune, other_commune, far_commune, post_office, official
):
    rng = random.Random(seed)
    communes = [commune, other_commune, far_commune]
    dossiers, items, events = build(rng, procedure, communes, post_office, official)
    per_commune = expected_counts(dossiers, items, events, communes)
    groups = {
        commune.pk: [commune.pk],
        other_commune.pk: [other_commune.pk],
        far_commune.pk: [far_commune.pk],
        district.pk: [commune.pk, other_commune.pk],
        province.pk: [commune.pk, other_commune.pk, far_commune.pk],
    }
    expected = roll_up(per_commune, groups)
    assert expected, "the scenario produced data"

    compute_weeks(mondays=WEEKS)
    compute_weeks(mondays=WEEKS[2:5])  # rerunning some weeks changes nothing

    actual = {
        (row["unit_id"], row["week_start"]): {name: row[name] for name in NAMES}
        for row in WeeklyRate.objects.filter(week_start__in=WEEKS).values("unit_id", "week_start", *NAMES)
    }
    assert actual.keys() == expected.keys()
    for key, counts in expected.items():
        assert actual[key] == counts, key

    # Rates over the whole period: sums of numerators over sums of denominators.
    rows = {
        r.unit.pk: r for r in selectors.unit_rows([*communes, district, province], WEEKS[0], WEEKS[-1], 2026)
    }
    for unit_id, members in groups.items():
        total = {n: sum(per_commune[(m, w)][n] for m in members for w in WEEKS) for n in NAMES}
        assert rows[unit_id].rates == {
            "bcci_return_rate": percent(total["returned_bcci"], total["returned"]),
            "bcci_intake_rate": percent(total["received_bcci"], total["received"]),
            "on_time_rate": percent(total["finished_early"] + total["finished_on_time"], total["finished"]),
            "online_rate": percent(total["received_online"], total["received"]),
            "jn_compliance": percent(total["items_on_target"], total["items_delivered"]),
        }, unit_id
