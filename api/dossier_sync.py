"""Dossiers pushed by a provincial one-stop system: create or update by code.

A body is one row of docs/import-format.md as a JSON object (the same column names); it is checked
by the importer's own row check (``dossiers.importing.check_row``), so the API and the file import
accept and refuse exactly the same rows with the same messages. Writing is an upsert by code in
one transaction: a new code creates a dossier with a ``dossier.api_created`` event, a known code
whose fields differ is updated with a ``dossier.api_updated`` event, and a body identical to what
is stored changes nothing and appends nothing, so sending it again is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from api import webhooks
from api.models import ApiClient
from communes.weekmarks import dossier_state, mark_dossiers
from dossiers.importing import Catalogue, check_row
from dossiers.importing.writing import _bump_sequences as bump_sequences  # the importer's, not a copy
from dossiers.importing.writing import apply_differences, differences_from, new_dossier
from dossiers.models import Dossier, DossierEvent

MAX_BATCH = 1000
UPDATE_BATCH = 250


@dataclass
class RowError:
    index: int
    code: str
    detail: str

    def as_dict(self) -> dict:
        return {"index": self.index, "code": self.code, "detail": self.detail}


class RowsRejected(Exception):
    """At least one row is bad: nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"{len(errors)} rows rejected")


@dataclass
class Outcome:
    code: str
    result: str  # created | updated | unchanged
    dossier_id: int


def check_rows(*, client: ApiClient, rows: list[dict], now: datetime) -> list[dict]:
    """The checked fields of every row, or RowsRejected listing every bad row."""
    catalogue = Catalogue(client.user)
    errors: list[RowError] = []
    checked: list[tuple[int, dict]] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        code = str(row.get("ma_ho_so") or "").strip()
        try:
            fields = check_row(row, catalogue, now=now)
        except ValueError as exc:
            errors.append(RowError(index, code, str(exc)))
            continue
        if fields["code"] in seen:
            errors.append(
                RowError(index, code, _("ma_ho_so %(code)s appears twice in the batch.") % {"code": code})
            )
            continue
        seen.add(fields["code"])
        checked.append((index, fields))
    owners = dict(
        Dossier.objects.filter(code__in=[fields["code"] for _i, fields in checked]).values_list(
            "code", "receiving_unit_id"
        )
    )
    for index, fields in checked:
        owner = owners.get(fields["code"])
        if owner is not None and owner != fields["receiving_unit_id"]:
            errors.append(
                RowError(
                    index,
                    fields["code"],
                    _("ma_ho_so %(code)s already belongs to a dossier of another unit.")
                    % {"code": fields["code"]},
                )
            )
    if errors:
        raise RowsRejected(sorted(errors, key=lambda error: error.index))
    return [fields for _index, fields in checked]


@transaction.atomic
def upsert_dossiers(*, client: ApiClient, rows: list[dict], now: datetime | None = None) -> list[Outcome]:
    """Check every row, then write them all or none."""
    now = now or timezone.now()
    checked = check_rows(client=client, rows=rows, now=now)
    by_code = {fields["code"]: fields for fields in checked}
    actor = client.user
    # Locked in code order, so two batches sharing dossiers cannot deadlock.
    existing = {
        dossier.code: dossier
        for dossier in Dossier.objects.select_for_update().filter(code__in=sorted(by_code)).order_by("code")
    }
    outcomes: dict[str, Outcome] = {}
    new: list[Dossier] = []
    changed: list[tuple[Dossier, list[str], int]] = []
    before: list[dict] = []  # the changed dossiers as they were, for the weeks they leave
    for code, fields in by_code.items():
        dossier = existing.get(code)
        if dossier is None:
            new.append(new_dossier(fields, created_by=actor))
            continue
        differences = differences_from(dossier, fields)
        if not differences:
            outcomes[code] = Outcome(code, "unchanged", dossier.pk)
            continue
        before.append(dossier_state(dossier))
        old_status = dossier.status
        apply_differences(dossier, fields, differences)
        changed.append((dossier, differences, old_status))
    created = Dossier.objects.bulk_create(new, batch_size=MAX_BATCH)
    events = [
        DossierEvent(
            dossier=dossier,
            actor=actor,
            at=now,
            action="dossier.api_created",
            to_status=dossier.status,
            details={"client": client.name},
        )
        for dossier in created
    ]
    for dossier in created:
        outcomes[dossier.code] = Outcome(dossier.code, "created", dossier.pk)
    for dossier, _diff, _old in changed:
        dossier.updated_at = now  # bulk_update does not touch auto_now fields
    if changed:
        columns = sorted({name for _dossier, differences, _old in changed for name in differences})
        _update([dossier for dossier, _diff, _old in changed], [*columns, "original_due_date", "updated_at"])
        Dossier.objects.filter(pk__in=[dossier.pk for dossier, _diff, _old in changed]).update(
            version=F("version") + 1
        )
    for dossier, differences, old_status in changed:
        outcomes[dossier.code] = Outcome(dossier.code, "updated", dossier.pk)
        events.append(
            DossierEvent(
                dossier=dossier,
                actor=actor,
                at=now,
                action="dossier.api_updated",
                from_status=old_status if old_status != dossier.status else None,
                to_status=dossier.status,
                details={"client": client.name, "fields": _field_names(differences)},
            )
        )
    DossierEvent.objects.bulk_create(events, batch_size=MAX_BATCH)
    bump_sequences(created)
    mark_dossiers([*before, *created, *(dossier for dossier, _diff, _old in changed)])
    webhooks.announce_dossier_events(events, exclude_client=client)
    return [outcomes[fields["code"]] for fields in checked]


def _field_names(differences: list[str]) -> list[str]:
    # The identity number itself never goes into the history, only that it changed.
    return [name.removesuffix("_id") for name in differences]


def _update(dossiers: list[Dossier], columns: list[str]) -> None:
    """Write the given columns of many dossiers. On PostgreSQL one ``UPDATE … FROM (VALUES …)``:
    ``bulk_update`` builds a CASE over the rows for every column in Python, which costs seconds
    for 1,000 rows; elsewhere (SQLite) ``bulk_update``."""
    if connection.vendor != "postgresql":
        Dossier.objects.bulk_update(dossiers, columns, batch_size=UPDATE_BATCH)
        return
    by_attname = {field.attname: field for field in Dossier._meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(field.column)}::{field.db_type(connection)}" for field in fields
    )
    names = ", ".join(["id", *(quote(field.column) for field in fields)])
    with connection.cursor() as cursor:
        for start in range(0, len(dossiers), MAX_BATCH):
            chunk = dossiers[start : start + MAX_BATCH]
            rows = ", ".join(["(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"] * len(chunk))
            params = [
                value
                for dossier in chunk
                for value in (
                    dossier.pk,
                    *(
                        field.get_db_prep_save(getattr(dossier, field.attname), connection)
                        for field in fields
                    ),
                )
            ]
            cursor.execute(
                f"UPDATE {quote(Dossier._meta.db_table)} d SET {assignments} "  # noqa: S608
                f"FROM (VALUES {rows}) AS v({names}) WHERE d.id = v.id::bigint",
                params,
            )
