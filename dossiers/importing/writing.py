"""Writing checked rows, the portable way (the ORM, used on SQLite): upsert by code, one
transaction per batch, an event per created or changed dossier, code sequences moved on."""

from __future__ import annotations

from datetime import date, datetime

from django.db import connection, transaction
from django.db.models import F

from communes.models import AdministrativeUnit
from communes.weekmarks import dossier_state, mark_dossiers
from dossiers.codes import parse_code
from dossiers.importing.reading import BATCH_SIZE
from dossiers.models import (
    Dossier,
    DossierCodeSequence,
    DossierEvent,
    ImportJob,
)
from dossiers.services import new_tracking_pin

# Fields an import sets on a dossier (compared to decide whether a known code changed).
IMPORTED_FIELDS = [
    "procedure_id",
    "receiving_unit_id",
    "applicant_name",
    "applicant_phone",
    "applicant_address",
    "applicant_id_number",
    "intake_channel",
    "return_channel",
    "decline_reason",
    "decline_note",
    "status",
    "received_at",
    "due_date",
    "finished_at",
    "returned_at",
    "timeliness",
]


def new_dossier(fields: dict, *, created_by) -> Dossier:
    """A dossier from checked import fields (the file, or the API's rows), not yet saved."""
    return Dossier(
        **fields, original_due_date=fields["due_date"], tracking_pin=new_tracking_pin(), created_by=created_by
    )


def differences_from(dossier: Dossier, fields: dict) -> list[str]:
    """The imported fields whose values differ from the dossier's."""
    return [name for name in IMPORTED_FIELDS if getattr(dossier, name) != fields[name]]


def apply_differences(dossier: Dossier, fields: dict, names: list[str]) -> None:
    """Take the new values; the original due date follows a due date moved earlier."""
    for name in names:
        setattr(dossier, name, fields[name])
    if dossier.original_due_date is None or (
        dossier.due_date is not None and dossier.due_date < dossier.original_due_date
    ):
        dossier.original_due_date = dossier.due_date


@transaction.atomic
def _write_batch(job: ImportJob, rows: list[dict], now: datetime) -> tuple[int, int, int]:
    by_code = {fields["code"]: fields for fields in rows}
    existing = {d.code: d for d in Dossier.objects.select_for_update().filter(code__in=list(by_code))}
    actor = job.created_by
    new, changed, events = [], [], []
    before: list[dict] = []  # the changed dossiers as they were: their weeks change too
    unchanged = 0
    for code, fields in by_code.items():
        dossier = existing.get(code)
        if dossier is None:
            new.append(new_dossier(fields, created_by=actor))
            continue
        if dossier.receiving_unit_id != fields["receiving_unit_id"]:
            continue  # reported by the check; never move a dossier between units
        differences = differences_from(dossier, fields)
        if not differences:
            unchanged += 1
            continue
        before.append(dossier_state(dossier))
        apply_differences(dossier, fields, differences)
        changed.append((dossier, differences))
    created = Dossier.objects.bulk_create(new, batch_size=BATCH_SIZE)
    for dossier in created:
        events.append(
            DossierEvent(
                dossier=dossier,
                actor=actor,
                at=now,
                action="dossier.imported",
                to_status=dossier.status,
                details=_imported_details(job),
            )
        )
    if changed:
        Dossier.objects.bulk_update(
            [dossier for dossier, _diff in changed],
            [*IMPORTED_FIELDS, "original_due_date"],
            batch_size=BATCH_SIZE,
        )
        Dossier.objects.filter(pk__in=[dossier.pk for dossier, _diff in changed]).update(
            version=F("version") + 1
        )
        for dossier, differences in changed:
            events.append(
                DossierEvent(
                    dossier=dossier,
                    actor=actor,
                    at=now,
                    action="dossier.import_updated",
                    to_status=dossier.status,
                    details=_updated_details(job, differences),
                )
            )
    DossierEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    _bump_sequences(created)
    mark_dossiers([*before, *created, *(dossier for dossier, _diff in changed)])
    return len(created), len(changed), unchanged


def _imported_details(job: ImportJob) -> dict:
    """The details of a created dossier's ``dossier.imported`` event."""
    return {"import": job.pk, "file": job.original_name[:100]}


def _updated_details(job: ImportJob, differences: list[str]) -> dict:
    """The details of a ``dossier.import_updated`` event: the fields that changed."""
    return {
        "import": job.pk,
        "fields": [name.removesuffix("_id") for name in differences if name != "applicant_id_number"]
        + (["applicant_id_number"] if "applicant_id_number" in differences else []),
    }


def _bump_sequences(dossiers: list[Dossier]) -> None:
    """Imported codes in our units' own numbering must not be handed out again at the desk."""
    if not dossiers:
        return
    units = {
        u.pk: u for u in AdministrativeUnit.objects.filter(pk__in={d.receiving_unit_id for d in dossiers})
    }
    highest: dict[tuple[int, date], int] = {}
    for dossier in dossiers:
        unit = units[dossier.receiving_unit_id]
        parsed = parse_code(dossier.code)
        if parsed.prefix != unit.dossier_prefix:
            continue
        key = (unit.pk, parsed.day)
        highest[key] = max(highest.get(key, 0), parsed.number)
    if highest:
        bump_code_sequences(highest)


def bump_code_sequences(highest: dict[tuple[int, date], int]) -> None:
    """Make sure the code sequence of each (unit, day) is at least the highest number imported,
    in one statement per 500 pairs."""
    table = connection.ops.quote_name(DossierCodeSequence._meta.db_table)
    rows = sorted(highest.items())
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params = [value for (unit_id, day), number in chunk for value in (unit_id, day, number)]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (unit_id, day, last_number) VALUES {values} "  # noqa: S608
                f"ON CONFLICT (unit_id, day) DO UPDATE SET last_number = "
                f"CASE WHEN {table}.last_number < excluded.last_number THEN excluded.last_number "
                f"ELSE {table}.last_number END",
                params,
            )
