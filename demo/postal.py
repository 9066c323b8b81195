"""Demo postal work: task transfers for the justice and land fields, return items (delivered,
failed, waiting) for finished BCCI dossiers, a few signed handover records and pickup
appointments. Idempotent: a second run adds nothing; large volumes go in bulk."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Role, User
from communes.models import AdministrativeUnit, PostOffice
from demo.communes import COMMUNE_CODES, DISTRICT_POST_CODE
from dossiers import workdays
from dossiers.models import Dossier, DossierDocument, Procedure, ProcedureField, ReturnChannel, Status
from postal import s10
from postal.models import (
    DeliveryAttempt,
    Direction,
    Handover,
    HandoverLine,
    ItemCodeSequence,
    ItemEvent,
    ItemStatus,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
    TaskTransferEvent,
)

S = ItemStatus
BATCH = 5000
# The district's decision: justice and land receiving/returning transferred by this date.
TRANSFER_DEADLINE = date(2022, 7, 31)
# Catalogue codes (dossiers/catalogue.py): civil status, justice, land.
FIELD_CODES = ("HT", "TP", "DD")
# Both spellings: SQLite compares only ASCII letters case-insensitively.
FIELD_HINTS = {
    "justice": ("tư pháp", "Tư pháp", "hộ tịch", "Hộ tịch", "chứng thực", "Chứng thực"),
    "land": ("đất đai", "Đất đai"),
}
DEMO_HANDOVER_PREFIX = "BBGN-DEMO-"
DEMO_NOTE = "Dữ liệu mẫu"


def _tz_at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)), workdays.TZ)


def _fields() -> list[ProcedureField]:
    """The justice fields (civil status, justice) and land of the catalogue: by code first, then by
    name for catalogues coded differently."""
    found = list(ProcedureField.objects.filter(code__in=FIELD_CODES).order_by("code"))
    if found:
        return found
    for hints in FIELD_HINTS.values():
        query = Q()
        for hint in hints:
            query |= Q(name__icontains=hint)
        field = ProcedureField.objects.filter(query).order_by("id").first()
        if field and field not in found:
            found.append(field)
    return found


def reserve_codes(office: PostOffice, service: str, count: int) -> list[str]:
    """``count`` new S10 codes of one office in one update of its sequence (bulk demo data)."""
    ItemCodeSequence.objects.get_or_create(post_office=office)
    sequence = ItemCodeSequence.objects.select_for_update().get(post_office=office)
    candidates = []
    number = sequence.last_number
    while len(candidates) < count:
        chunk = []
        for _ in range(count - len(candidates)):
            number += 1
            chunk.append(s10.make_code(service, s10.office_serial(office.pk, number)))
        used = set(PostalItem.objects.filter(code__in=chunk).values_list("code", flat=True))
        candidates += [code for code in chunk if code not in used]
    sequence.last_number = number
    sequence.save(update_fields=["last_number"])
    return candidates


def _seed_transfers(rng, communes, manager, staff_by_commune, stdout) -> None:
    fields = _fields()
    if not fields:
        stdout.write("Demo transfers: no justice or land field in the catalogue yet; skipped.")
        return
    tasks = [TaskTransfer.Task.INTAKE, TaskTransfer.Task.RETURN, TaskTransfer.Task.GUIDANCE]
    existing = set(TaskTransfer.objects.values_list("unit_id", "field_id", "task"))
    new = []
    for index, commune in enumerate(communes):
        for field in fields:
            for task in tasks:
                if (commune.pk, field.pk, task) in existing:
                    continue
                # About two thirds of the communes finished; some after the deadline.
                done = (index % 3 != 2 and task != TaskTransfer.Task.GUIDANCE) or index % 4 == 0
                done_date = TRANSFER_DEADLINE + timedelta(days=rng.randint(-45, 12)) if done else None
                new.append(
                    TaskTransfer(
                        unit=commune,
                        field=field,
                        task=task,
                        planned_date=TRANSFER_DEADLINE,
                        done_date=done_date,
                        status=TaskTransfer.Status.DONE if done else TaskTransfer.Status.IN_PROGRESS,
                        note=DEMO_NOTE,
                    )
                )
    created = TaskTransfer.objects.bulk_create(new, batch_size=BATCH)
    events, links = [], []
    planned_at = _tz_at(date(2022, 5, 16), 9)
    for transfer in created:
        events.append(
            TaskTransferEvent(
                transfer=transfer,
                actor=manager,
                at=planned_at,
                action="transfer.planned",
                details={"planned_date": transfer.planned_date.isoformat()},
            )
        )
        if transfer.done_date:
            events.append(
                TaskTransferEvent(
                    transfer=transfer,
                    actor=manager,
                    at=_tz_at(transfer.done_date, 16),
                    action="transfer.done",
                    details={
                        "done_date": transfer.done_date.isoformat(),
                        "late": transfer.done_date > transfer.planned_date,
                    },
                )
            )
        person = staff_by_commune.get(transfer.unit_id)
        if person:
            links.append(TaskTransfer.staff.through(tasktransfer_id=transfer.pk, user_id=person.pk))
    TaskTransferEvent.objects.bulk_create(events, batch_size=BATCH)
    TaskTransfer.staff.through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
    stdout.write(f"Demo transfers: {len(created)} planned ({sum(1 for t in created if t.done_date)} done).")


def _seed_return_items(rng, communes, offices, actor_for, stdout) -> list[PostalItem]:
    """Items for finished BCCI dossiers that have none yet: delivered (returned), and for the
    processed ones waiting for the post, created or out with failed attempts."""
    without_items = ~Exists(PostalItem.objects.filter(dossier=OuterRef("pk")))
    dossiers = (
        Dossier.objects.filter(
            receiving_unit__in=communes,
            return_channel=ReturnChannel.BCCI,
            status__in=[Status.FINISHED, Status.RETURNED],
        )
        .filter(without_items)
        .values_list("pk", "receiving_unit_id", "status", "finished_at", "returned_at", "applicant_name")
        .order_by("pk")
    )
    made: list[PostalItem] = []
    batch: list[tuple] = []
    waiting_left = 40  # processed dossiers given an item that is still with the post

    def flush():
        nonlocal batch
        if batch:
            made.extend(_create_items(rng, batch, offices, actor_for))
        batch = []

    for row in dossiers.iterator(chunk_size=BATCH):
        if row[2] == Status.FINISHED:
            if waiting_left <= 0:
                continue
            waiting_left -= 1
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()
    stdout.write(f"Demo postal items: {len(made)} return items.")
    return made


@transaction.atomic
def _create_items(rng, rows, offices, actor_for) -> list[PostalItem]:
    by_office: dict[int, list[tuple]] = {}
    for row in rows:
        office = offices.get(row[1])
        if office:
            by_office.setdefault(office.pk, []).append(row)
    items, plans = [], []
    for office_id, office_rows in by_office.items():
        office = next(o for o in offices.values() if o.pk == office_id)
        codes = reserve_codes(office, s10.RETURN_SERVICE, len(office_rows))
        for code, (pk, _unit, status, finished_at, returned_at, applicant) in zip(
            codes, office_rows, strict=True
        ):
            actor = actor_for(office)
            finished_day = workdays.local_date(finished_at) if finished_at else timezone.localdate()
            item = PostalItem(
                code=code, dossier_id=pk, direction=Direction.RETURN, post_office=office, created_by=actor
            )
            if status == Status.RETURNED and returned_at:
                delivered_day = workdays.local_date(returned_at)
                j = min(finished_day, delivered_day)
                item.status = S.DELIVERED
                item.handover_date = j
                item.target_date = workdays.add_working_days(j, 1)
                item.recipient_name = applicant
                item.id_checked = True
                item.delivered_at = returned_at
                item.attempts = 2 if rng.random() < 0.12 else 1
            else:
                roll = rng.random()
                if roll < 0.3:
                    item.status = S.CREATED
                else:
                    j = min(finished_day, timezone.localdate())
                    item.handover_date = j
                    item.target_date = workdays.add_working_days(j, 1)
                    item.status = S.DELIVERY_FAILED if roll < 0.65 else S.OUT_FOR_DELIVERY
                    item.attempts = 1 if item.status == S.DELIVERY_FAILED else 0
            item.version = 1 + (item.status != S.CREATED) + item.attempts
            items.append(item)
            plans.append(actor)
    PostalItem.objects.bulk_create(items, batch_size=BATCH)
    events, attempts = [], []
    for item, actor in zip(items, plans, strict=True):
        created_at = _tz_at(item.handover_date or timezone.localdate(), 8)
        events.append(
            ItemEvent(item=item, actor=actor, at=created_at, action="item.created", to_status=S.CREATED)
        )
        if item.status == S.CREATED:
            continue
        accepted_at = _tz_at(item.handover_date, 10)
        events.append(
            ItemEvent(
                item=item,
                actor=actor,
                at=accepted_at,
                action="item.accepted",
                from_status=S.CREATED,
                to_status=S.ACCEPTED,
            )
        )
        previous = S.ACCEPTED
        if item.status == S.DELIVERED and item.attempts == 2:
            failed_at = item.delivered_at - timedelta(hours=3)
            attempts.append(
                DeliveryAttempt(item=item, at=failed_at, outcome=DeliveryAttempt.Outcome.NOT_HOME, by=actor)
            )
            events.append(
                ItemEvent(
                    item=item,
                    actor=actor,
                    at=failed_at,
                    action="item.delivery_failed",
                    from_status=previous,
                    to_status=S.DELIVERY_FAILED,
                    details={"outcome": "not_home", "attempt": 1},
                )
            )
            previous = S.DELIVERY_FAILED
        if item.status == S.DELIVERED:
            attempts.append(DeliveryAttempt(item=item, at=item.delivered_at, outcome="delivered", by=actor))
            events.append(
                ItemEvent(
                    item=item,
                    actor=actor,
                    at=item.delivered_at,
                    action="item.delivered",
                    from_status=previous,
                    to_status=S.DELIVERED,
                    details={"attempt": item.attempts},
                )
            )
        elif item.status == S.DELIVERY_FAILED:
            failed_at = accepted_at + timedelta(hours=5)
            attempts.append(
                DeliveryAttempt(item=item, at=failed_at, outcome=DeliveryAttempt.Outcome.NOT_HOME, by=actor)
            )
            events.append(
                ItemEvent(
                    item=item,
                    actor=actor,
                    at=failed_at,
                    action="item.delivery_failed",
                    from_status=previous,
                    to_status=S.DELIVERY_FAILED,
                    details={"outcome": "not_home", "attempt": 1},
                )
            )
        else:
            events.append(
                ItemEvent(
                    item=item,
                    actor=actor,
                    at=accepted_at + timedelta(hours=1),
                    action="item.out_for_delivery",
                    from_status=previous,
                    to_status=S.OUT_FOR_DELIVERY,
                )
            )
    ItemEvent.objects.bulk_create(events, batch_size=BATCH)
    DeliveryAttempt.objects.bulk_create(attempts, batch_size=BATCH)
    return items


def _seed_handovers(communes, offices, officials, actor_for, stdout) -> None:
    """A few signed records grouping delivered items, so the list and the print show history."""
    if Handover.objects.filter(number__startswith=DEMO_HANDOVER_PREFIX).exists():
        return
    count = 0
    for commune in communes[:3]:
        office = offices.get(commune.pk)
        official = officials.get(commune.pk)
        if not office or not official:
            continue
        items = list(
            PostalItem.objects.filter(post_office=office, direction=Direction.RETURN)
            .exclude(handover_date=None)
            .filter(handover_lines=None)
            .order_by("-handover_date")[:12]
        )
        for day_items in _group_by(items, lambda i: i.handover_date).values():
            day = day_items[0].handover_date
            signed_at = _tz_at(day, 10)
            count += 1
            handover = Handover.objects.create(
                number=f"{DEMO_HANDOVER_PREFIX}{commune.code}-{day:%y%m%d}",
                direction=Handover.Direction.DESK_TO_POST,
                desk_unit=commune,
                post_office=office,
                status=Handover.Status.SIGNED,
                prepared_by=official,
                desk_signed_by=official,
                desk_signed_at=signed_at,
                post_signed_by=actor_for(office),
                post_signed_at=signed_at,
                signed_at=signed_at,
                note=DEMO_NOTE,
            )
            HandoverLine.objects.bulk_create(HandoverLine(handover=handover, item=i) for i in day_items)
    stdout.write(f"Demo handover records: {count} signed.")


def _group_by(values, key):
    groups: dict = {}
    for value in values:
        groups.setdefault(key(value), []).append(value)
    return groups


def _seed_appointments(rng, communes, offices, staff_by_commune, stdout) -> None:
    if PickupAppointment.objects.filter(note=DEMO_NOTE).exists():
        return
    procedure = Procedure.objects.filter(
        active=True, bcci_intake_allowed=True, presence_required=False
    ).first()
    if procedure is None:
        stdout.write("Demo appointments: no procedure in the catalogue yet; skipped.")
        return
    from postal import services

    today = timezone.localdate()
    made = 0
    for commune in communes[:3]:
        office, person = offices.get(commune.pk), staff_by_commune.get(commune.pk)
        if not office or not person:
            continue
        plans = [
            (today, 8, PickupAppointment.Status.BOOKED),
            (today, 10, PickupAppointment.Status.BOOKED),
            (today, 14, PickupAppointment.Status.BOOKED),
            (today - timedelta(days=1), 9, PickupAppointment.Status.MISSED),
            (today - timedelta(days=2), 15, PickupAppointment.Status.MISSED),
            (today - timedelta(days=1), 14, PickupAppointment.Status.DONE),
        ]
        for n, (day, hour, status) in enumerate(plans, start=1):
            start = _tz_at(day, hour)
            appointment = PickupAppointment.objects.create(
                citizen_name=f"Công dân hẹn {n} – {commune.name}",
                citizen_phone=f"09{rng.randint(10_000_000, 99_999_999)}",
                address=f"Thôn {n}, {commune.name}",
                commune=commune,
                procedure=procedure,
                post_office=office,
                slot_start=start,
                slot_end=start + timedelta(hours=1),
                assigned_to=person,
                status=PickupAppointment.Status.BOOKED,
                note=DEMO_NOTE,
                created_by=person,
            )
            made += 1
            if status == PickupAppointment.Status.MISSED:
                services.mark_appointment(appointment=appointment, by=person, status=status)
            elif status == PickupAppointment.Status.DONE:
                services.receive_bcci_dossier(
                    by=person,
                    receiving_unit=commune,
                    procedure=procedure,
                    applicant_name=appointment.citizen_name,
                    applicant_address=appointment.address,
                    documents=[
                        {"name": name, "form": DossierDocument.Form.ORIGINAL, "count": 1}
                        for name in (procedure.document_list or ["Tờ khai"])[:3]
                    ],
                    postage=15000,
                    appointment=appointment,
                )
    stdout.write(f"Demo appointments: {made} (booked, missed, and done ones turned into BCCI intakes).")


def seed(*, options, stdout) -> None:
    rng = random.Random(options.get("seed", 2026))
    # In the demo's order: the communes with demo users (Hoàn Lão, Bố Trạch) come first.
    communes = sorted(
        AdministrativeUnit.objects.filter(code__in=COMMUNE_CODES), key=lambda c: COMMUNE_CODES.index(c.code)
    )
    if not communes:
        stdout.write("Demo postal data: no demo communes; skipped.")
        return
    offices = {
        o.commune_id: o for o in PostOffice.objects.filter(code__in=[f"BDVHX-{c}" for c in COMMUNE_CODES])
    }
    manager = (
        User.objects.filter(role=Role.POST_MANAGER, post_office__code=DISTRICT_POST_CODE).first()
        or User.objects.filter(role=Role.ADMINISTRATOR).first()
    )
    staff = {
        u.post_office_id: u
        for u in User.objects.filter(role=Role.POSTAL_STAFF, post_office__in=offices.values())
    }
    staff_by_commune = {commune_id: staff[o.pk] for commune_id, o in offices.items() if o.pk in staff}
    officials = {
        u.unit_id: u
        for u in User.objects.filter(role=Role.COMMUNE_OFFICIAL, unit__in=communes).order_by("id")
    }

    def actor_for(office):
        return staff.get(office.pk) or manager

    if manager is None:
        stdout.write("Demo postal data: no post manager or administrator to act; skipped.")
        return
    _seed_transfers(rng, communes, manager, staff_by_commune, stdout)
    _seed_return_items(rng, communes, offices, actor_for, stdout)
    _seed_handovers(communes, offices, officials, actor_for, stdout)
    _seed_appointments(rng, communes, offices, staff_by_commune, stdout)
