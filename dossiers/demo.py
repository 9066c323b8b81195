"""Demo catalogue and dossiers: two years of a district's one-stop desks.

``seed(options={"dossiers": N})`` loads the catalogue (idempotent) and tops the demo communes up
to N dossiers, spread over the last two years, with a realistic mix: intake channels, postal
return rising over time, declines by reason, supplements, extensions, late dossiers. Rows are
built in memory and written with ``bulk_create`` in batches (dossiers, then their documents,
events, supplement requests and extensions); code sequences are bumped at the end so the desk
continues after the demo's numbers.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from communes.demo import COMMUNE_CODES
from communes.models import AdministrativeUnit
from dossiers import workdays
from dossiers.catalogue import load_catalogue
from dossiers.codes import format_code
from dossiers.models import (
    DeclineReason,
    Dossier,
    DossierCodeSequence,
    DossierDocument,
    DossierEvent,
    Extension,
    IntakeChannel,
    Procedure,
    ReturnChannel,
    Status,
    SupplementRequest,
)
from dossiers.services import bump_code_sequence

BATCH_SIZE = 2000
DAYS_OF_HISTORY = 730

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Phan"]
MIDDLE = ["Văn", "Thị", "Minh", "Đức", "Thanh", "Ngọc", "Hữu", "Quang", "Thu", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Nga", "Phong"]
GIVEN += ["Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Hiếu", "Loan", "Khánh", "Yến"]

# Certification and civil status make most of a commune desk's day; land dossiers are fewer.
FIELD_WEIGHTS = {"CT": 45, "HT": 35, "DD": 17, "TP": 3}
DECLINE_WEIGHTS = {
    DeclineReason.IN_PERSON: 38,
    DeclineReason.WORRIED_PAPERS: 20,
    DeclineReason.UNAWARE: 16,
    DeclineReason.FEE: 12,
    DeclineReason.URGENT: 9,
    DeclineReason.OTHER: 5,
}
OTHER_NOTES = ["Nhà gần trụ sở xã", "Đi làm ăn xa, nhờ người thân nhận", "Muốn kiểm tra kết quả tại chỗ"]


def seed(*, options, stdout) -> None:
    created, total = load_catalogue()
    stdout.write(f"Demo catalogue: {total} procedures ({created} new).")
    wanted = int(options.get("dossiers", 2000) or 0)
    if wanted <= 0:
        return
    communes = list(AdministrativeUnit.objects.filter(code__in=COMMUNE_CODES).order_by("code"))
    if not communes:
        stdout.write("No demo communes: run the communes seed first.")
        return
    existing = Dossier.objects.filter(receiving_unit__in=communes).count()
    missing = wanted - existing
    if missing <= 0:
        stdout.write(f"Demo dossiers: {existing} already there.")
        return
    count = generate_dossiers(
        count=missing, communes=communes, seed=int(options.get("seed") or 2026), now=timezone.now()
    )
    stdout.write(f"Demo dossiers: {count} created over the last two years ({existing + count} in all).")


class _Generator:
    def __init__(self, *, communes, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.now = now
        self.today = workdays.local_date(now)
        self.communes = communes
        # The first communes are the busier ones (the district seat first).
        self.commune_weights = [max(1, 10 - i) for i in range(len(communes))]
        procedures = list(Procedure.objects.filter(active=True).select_related("field"))
        by_field = defaultdict(list)
        for procedure in procedures:
            by_field[procedure.field.code].append(procedure)
        self.procedures = [p for code in FIELD_WEIGHTS for p in by_field.get(code, [])]
        self.procedure_weights = [
            FIELD_WEIGHTS[p.field.code] / len(by_field[p.field.code]) for p in self.procedures
        ]
        self.officials = {
            u.unit_id: u for u in User.objects.filter(role="commune_official", unit__in=communes)
        }
        # Supplement requests and extensions need a signatory even where no demo login exists.
        self.any_official = next(iter(self.officials.values()), None)
        self.numbers: dict[tuple[int, date], int] = {
            (row.unit_id, row.day): row.last_number
            for row in DossierCodeSequence.objects.filter(unit__in=communes)
        }
        self.working_days = [
            self.today - timedelta(days=offset)
            for offset in range(DAYS_OF_HISTORY, -1, -1)
            if workdays.is_working_day(self.today - timedelta(days=offset))
        ]

    def name(self) -> str:
        rng = self.rng
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"

    def received_at(self) -> datetime:
        day = self.rng.choice(self.working_days)
        minutes = self.rng.randint(7 * 60 + 30, 16 * 60 + 30)
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=workdays.TZ)
        return min(moment, self.now - timedelta(minutes=5))

    def at_on(self, day: date, *, not_before: datetime) -> datetime:
        minutes = self.rng.randint(8 * 60, 16 * 60 + 45)
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=workdays.TZ)
        return min(max(moment, not_before + timedelta(minutes=30)), self.now)

    def build(self):
        """One dossier with its documents, events, supplement request and extension (unsaved)."""
        rng = self.rng
        unit = rng.choices(self.communes, weights=self.commune_weights)[0]
        procedure = rng.choices(self.procedures, weights=self.procedure_weights)[0]
        received = self.received_at()
        age = (self.today - workdays.local_date(received)).days
        progress = 1 - age / DAYS_OF_HISTORY  # 0 two years ago → 1 today: postal use grows
        actor = self.officials.get(unit.pk)

        intake = rng.choices(
            [IntakeChannel.IN_PERSON, IntakeChannel.ONLINE, IntakeChannel.BCCI],
            weights=[70 - 20 * progress, 22 + 10 * progress, 8 + 10 * progress],
        )[0]
        if intake == IntakeChannel.BCCI and not procedure.bcci_intake_allowed:
            intake = IntakeChannel.IN_PERSON
        bcci_share = 0.06 + 0.24 * progress
        return_channel = ReturnChannel.BCCI if rng.random() < bcci_share else ReturnChannel.DESK
        if intake == IntakeChannel.ONLINE and return_channel == ReturnChannel.DESK and rng.random() < 0.3:
            return_channel = ReturnChannel.ONLINE
        if not procedure.bcci_return_allowed:
            return_channel = ReturnChannel.DESK
        decline_reason, decline_note = "", ""
        if return_channel != ReturnChannel.BCCI:
            decline_reason = rng.choices(list(DECLINE_WEIGHTS), weights=list(DECLINE_WEIGHTS.values()))[0]
            if decline_reason == DeclineReason.OTHER:
                decline_note = rng.choice(OTHER_NOTES)

        day = workdays.local_date(received)
        number = self.numbers.get((unit.pk, day), 0) + 1
        self.numbers[(unit.pk, day)] = number
        due = workdays.due_date(received, procedure.processing_days)
        dossier = Dossier(
            code=format_code(unit.dossier_prefix, day, number),
            procedure=procedure,
            receiving_unit=unit,
            applicant_name=self.name(),
            applicant_phone=f"09{rng.randint(0, 99_999_999):08d}",
            applicant_address=f"Thôn {rng.randint(1, 12)}, {unit.name}",
            applicant_id_number=f"044{rng.randint(0, 999_999_999):09d}" if rng.random() < 0.7 else "",
            tracking_pin=f"{rng.randint(0, 999_999):06d}",
            intake_channel=intake,
            return_channel=return_channel,
            decline_reason=decline_reason,
            decline_note=decline_note,
            received_by_post=intake == IntakeChannel.BCCI and rng.random() < 0.5,
            status=Status.ACCEPTED,
            received_at=received,
            due_date=due,
            original_due_date=due,
            created_by=actor,
        )
        events = [("dossier.accepted", received, None, Status.ACCEPTED, {"code": dossier.code})]
        documents = [
            DossierDocument(
                name=doc,
                form=rng.choice(["original", "copy", "certified_copy"]),
                count=rng.choice([1, 1, 1, 2]),
            )
            for doc in procedure.document_list[: rng.randint(1, max(1, len(procedure.document_list)))]
        ]
        supplement = extension = None

        status = Status.ACCEPTED
        if procedure.processing_days > 0 and rng.random() < 0.08:
            asked = self.at_on(workdays.add_working_days(day, 1), not_before=received)
            if asked < self.now:
                supplement = SupplementRequest(
                    requested_at=asked,
                    requested_by=actor or self.any_official,
                    items="Bản sao giấy tờ tùy thân có chứng thực",
                )
                events.append(
                    ("dossier.supplement_requested", asked, status, Status.SUPPLEMENT_REQUESTED, {})
                )
                status = Status.SUPPLEMENT_REQUESTED
                completed_day = workdays.add_working_days(workdays.local_date(asked), rng.randint(1, 6))
                if completed_day <= self.today:
                    completed = self.at_on(completed_day, not_before=asked)
                    supplement.completed_at, supplement.completed_by = completed, supplement.requested_by
                    due = max(workdays.due_date(completed, procedure.processing_days), due)
                    dossier.due_date = due
                    events.append(
                        (
                            "dossier.supplement_completed",
                            completed,
                            status,
                            Status.PROCESSING,
                            {"due_date": due.isoformat()},
                        )
                    )
                    status = Status.PROCESSING

        if status == Status.ACCEPTED and procedure.processing_days > 0:
            started = self.at_on(day, not_before=received)
            events.append(("dossier.processing_started", started, status, Status.PROCESSING, {}))
            status = Status.PROCESSING

        if status == Status.PROCESSING and procedure.processing_days >= 3 and rng.random() < 0.03:
            issued_day = workdays.add_working_days(day, max(1, procedure.processing_days - 2))
            if issued_day < due and issued_day <= self.today:
                new_due = workdays.add_working_days(due, rng.randint(2, 5))
                issued = self.at_on(issued_day, not_before=received)
                extension = Extension(
                    issued_at=issued,
                    issued_by=actor or self.any_official,
                    reason="Cần xác minh thêm thông tin với cơ quan liên quan",
                    previous_due_date=due,
                    new_due_date=new_due,
                )
                events.append(("dossier.extended", issued, status, status, {"due_date": new_due.isoformat()}))
                due = dossier.due_date = new_due

        if status in (Status.ACCEPTED, Status.PROCESSING):
            # When processing ends: mostly on or before the due date, some late.
            roll = rng.random()
            if roll < 0.07:
                end_day = workdays.add_working_days(due, rng.randint(1, 6))
            elif roll < 0.25:
                end_day = due
            else:
                end_day = workdays.add_working_days(
                    workdays.counting_start(received), rng.randint(0, max(0, procedure.processing_days - 1))
                )
            if end_day <= self.today and not (end_day == self.today and rng.random() < 0.5):
                ended = self.at_on(end_day, not_before=received)
                outcome = rng.random()
                if outcome < 0.01:
                    final, action = Status.WITHDRAWN, "dossier.withdrawn"
                elif outcome < 0.02:
                    final, action = Status.STOPPED, "dossier.stopped"
                elif outcome < 0.03 and status == Status.ACCEPTED:
                    final, action = Status.REFUSED, "dossier.refused"
                else:
                    final, action = Status.FINISHED, "dossier.finished"
                dossier.finished_at = ended
                if final != Status.WITHDRAWN:
                    dossier.timeliness = workdays.timeliness(workdays.local_date(ended), due)
                events.append((action, ended, status, final, {}))
                status = final
                if final == Status.FINISHED:
                    return_day = workdays.add_working_days(
                        end_day, rng.randint(0, 3 if return_channel == ReturnChannel.BCCI else 5)
                    )
                    if return_day < self.today or (return_day == self.today and rng.random() < 0.3):
                        returned = self.at_on(return_day, not_before=ended)
                        dossier.returned_at = returned
                        events.append(
                            (
                                "dossier.returned",
                                returned,
                                status,
                                Status.RETURNED,
                                {"channel": return_channel},
                            )
                        )
                        status = Status.RETURNED
        dossier.status = status
        return dossier, documents, events, supplement, extension, actor


@transaction.atomic
def generate_dossiers(*, count: int, communes, seed: int = 2026, now: datetime | None = None) -> int:
    """Create ``count`` demo dossiers with bulk inserts; returns how many were created."""
    generator = _Generator(communes=communes, seed=seed, now=now or timezone.now())
    if not generator.procedures:
        return 0
    made = 0
    while made < count:
        batch = [generator.build() for _ in range(min(BATCH_SIZE, count - made))]
        dossiers = Dossier.objects.bulk_create([row[0] for row in batch], batch_size=BATCH_SIZE)
        documents, events, supplements, extensions = [], [], [], []
        for dossier, (_d, docs, evs, supplement, extension, actor) in zip(dossiers, batch, strict=True):
            for doc in docs:
                doc.dossier = dossier
                documents.append(doc)
            for action, moment, from_status, to_status, details in evs:
                events.append(
                    DossierEvent(
                        dossier=dossier,
                        actor=actor,
                        at=moment,
                        action=action,
                        from_status=from_status,
                        to_status=to_status,
                        details={**details, "demo": True},
                    )
                )
            if supplement is not None and supplement.requested_by is not None:
                supplement.dossier = dossier
                supplements.append(supplement)
            if extension is not None and extension.issued_by is not None:
                extension.dossier = dossier
                extensions.append(extension)
        DossierDocument.objects.bulk_create(documents, batch_size=BATCH_SIZE)
        DossierEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
        SupplementRequest.objects.bulk_create(supplements, batch_size=BATCH_SIZE)
        Extension.objects.bulk_create(extensions, batch_size=BATCH_SIZE)
        made += len(dossiers)
    units = {unit.pk: unit for unit in communes}
    for (unit_id, day), number in generator.numbers.items():
        bump_code_sequence(unit=units[unit_id], day=day, number=number)
    return made
