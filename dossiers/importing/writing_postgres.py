"""Writing checked rows on PostgreSQL: COPY into a temporary table and a handful of statements
per batch, with the same result as ``writing._write_batch``."""

from __future__ import annotations

import json
from datetime import datetime
from itertools import compress

from django.db import connection, transaction
from django.utils import timezone

from communes.models import AdministrativeUnit
from communes.weekmarks import DOSSIER_FIELDS, mark_dossiers
from dossiers.codes import parse_code
from dossiers.importing.writing import (
    IMPORTED_FIELDS,
    _imported_details,
    _updated_details,
)
from dossiers.models import (
    Dossier,
    DossierCodeSequence,
    DossierEvent,
    ImportJob,
)
from dossiers.services import new_tracking_pin


class _PostgresBatchWriter:
    """Writes one batch of checked rows on PostgreSQL in a handful of statements, whatever its
    size: the rows are copied (``COPY``) into a temporary table, known codes that changed are
    locked and compared column by column in SQL, new codes are inserted with their
    ``dossier.imported`` events and the code sequences moved forward in one statement, and the
    changed dossiers are updated in one more. Same result as ``_write_batch`` (the portable
    path, used on SQLite), without building a model instance per row."""

    TABLE = "import_batch"

    def __init__(self, job: ImportJob, now: datetime):
        self.job = job
        self.now = now
        self.actor_id = job.created_by_id
        self.prefixes: dict[int, str] = {}  # unit id -> dossier_prefix, loaded as units appear
        quote = connection.ops.quote_name
        meta = Dossier._meta
        self.columns = ["code", *IMPORTED_FIELDS, "tracking_pin"]
        self.create_table = (
            f"CREATE TEMPORARY TABLE {self.TABLE} (position integer, "
            + ", ".join(f"{quote(name)} {meta.get_field(name).db_type(connection)}" for name in self.columns)
            + ", sequence_unit_id bigint, sequence_day date, sequence_number integer) ON COMMIT DROP"
        )
        self.copy = (
            f"COPY {self.TABLE} (position, {', '.join(map(quote, self.columns))}, "
            "sequence_unit_id, sequence_day, sequence_number) FROM STDIN"
        )
        dossiers = quote(meta.db_table)
        differs = [f"d.{quote(name)} IS DISTINCT FROM t.{quote(name)}" for name in IMPORTED_FIELDS]
        # Known codes of the batch that would change, locked for the update; a code owned by
        # another unit (the check reported it) is returned too, to be left alone. The lateral
        # subquery with FOR UPDATE is never turned into a join, so each row of the batch is one
        # probe of the code index, whatever the planner estimates (a hash join would read the
        # whole dossier table for every batch).
        self.changed = (
            f"SELECT d.* FROM {self.TABLE} t, LATERAL ("  # noqa: S608
            f"SELECT d.id, d.receiving_unit_id = t.receiving_unit_id, t.status, {', '.join(differs)} "
            f"FROM {dossiers} d WHERE d.code = t.code AND (d.receiving_unit_id <> t.receiving_unit_id "
            f"OR ({', '.join(f'd.{quote(n)}' for n in IMPORTED_FIELDS)}) "
            f"IS DISTINCT FROM ({', '.join(f't.{quote(n)}' for n in IMPORTED_FIELDS)})) "
            "FOR UPDATE) d ORDER BY t.position"
        )
        # New codes: every column of the dossier, from the batch table or as a new dossier
        # gets it (created_by, created_at, defaults), with its event and the sequences.
        insert_columns, values = [], []
        for field in meta.concrete_fields:
            if field.primary_key:
                continue
            insert_columns.append(quote(field.column))
            if field.attname in self.columns:
                values.append(f"t.{quote(field.attname)}")
            elif field.attname == "original_due_date":
                values.append("t.due_date")
            elif field.attname == "created_by_id":
                values.append("%(actor)s")
            elif field.attname in ("created_at", "updated_at"):
                values.append("%(written_at)s")
            else:
                values.append(f"%(default_{field.attname})s")
        self.defaults = {
            f"default_{field.attname}": field.get_default()
            for field in meta.concrete_fields
            if not field.primary_key
            and field.attname not in self.columns
            and field.attname not in ("original_due_date", "created_by_id", "created_at", "updated_at")
        }
        events = quote(DossierEvent._meta.db_table)
        sequences = quote(DossierCodeSequence._meta.db_table)
        self.insert = (
            f"WITH created AS ("  # noqa: S608
            f" INSERT INTO {dossiers} ({', '.join(insert_columns)})"
            f" SELECT {', '.join(values)} FROM {self.TABLE} t"
            # OFFSET 0 keeps the check a probe of the code index per row (as above).
            f" WHERE NOT EXISTS (SELECT 1 FROM {dossiers} d WHERE d.code = t.code OFFSET 0)"
            f" ORDER BY t.position ON CONFLICT (code) DO NOTHING RETURNING id, code, status"
            f"), events AS ("
            f" INSERT INTO {events} (dossier_id, actor_id, at, action, from_status, to_status, details)"
            f" SELECT id, %(actor)s, %(now)s, 'dossier.imported', NULL, status, %(details)s::jsonb"
            f" FROM created ORDER BY id"
            f"), sequences AS ("
            f" INSERT INTO {sequences} AS s (unit_id, day, last_number)"
            f" SELECT t.sequence_unit_id, t.sequence_day, max(t.sequence_number)"
            f" FROM created c JOIN {self.TABLE} t ON t.code = c.code"
            f" WHERE t.sequence_day IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
            f" ON CONFLICT (unit_id, day) DO UPDATE"
            f" SET last_number = GREATEST(s.last_number, excluded.last_number)"
            f") SELECT count(*) FROM created"
        )
        assignments = [f"{quote(name)} = t.{quote(name)}" for name in IMPORTED_FIELDS]
        self.update = (
            f"UPDATE {dossiers} d SET {', '.join(assignments)}, "  # noqa: S608
            "original_due_date = CASE WHEN d.original_due_date IS NULL "
            "OR t.due_date < d.original_due_date THEN t.due_date ELSE d.original_due_date END, "
            f"version = d.version + 1 FROM {self.TABLE} t WHERE t.code = d.code AND d.id = ANY(%s)"
        )
        self.copy_events = f"COPY {events} (dossier_id, actor_id, at, action, to_status, details) FROM STDIN"

    def _sequence(self, code: str, unit_id: int) -> tuple:
        """(unit, day, number) when the code is in the unit's own numbering, else NULLs."""
        parsed = parse_code(code)
        if parsed.prefix != self.prefixes[unit_id]:
            return None, None, None
        return unit_id, parsed.day, parsed.number

    @transaction.atomic
    def __call__(self, rows: list[dict]) -> tuple[int, int, int]:
        if not rows:
            return 0, 0, 0
        columns = self.columns[:-1]
        units = {fields["receiving_unit_id"] for fields in rows} - self.prefixes.keys()
        for unit in AdministrativeUnit.objects.filter(pk__in=units).only("code", "identifier"):
            self.prefixes[unit.pk] = unit.dossier_prefix
        with connection.cursor() as cursor:
            # Short statements: compiling them (JIT) would cost more than running them.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(self.create_table)
            # In code order, so that two imports lock the dossiers they share in the same order;
            # the position keeps the file's order for the ids of new dossiers and the events.
            ordered = sorted(enumerate(rows), key=lambda item: item[1]["code"])
            with cursor.copy(self.copy) as copy:
                for position, fields in ordered:
                    copy.write_row(
                        (
                            position,
                            *[fields[name] for name in columns],
                            new_tracking_pin(),
                            *self._sequence(fields["code"], fields["receiving_unit_id"]),
                        )
                    )
            cursor.execute(self.changed)
            known = cursor.fetchall()
            changed = [
                (dossier_id, status, list(compress(IMPORTED_FIELDS, flags)))
                for dossier_id, same_unit, status, *flags in known
                if same_unit  # never move a dossier between units (the check reported it)
            ]
            other_unit = len(known) - len(changed)
            cursor.execute(
                self.insert,
                {
                    "actor": self.actor_id,
                    "now": self.now,
                    "written_at": timezone.now(),
                    "details": json.dumps(_imported_details(self.job)),
                    **self.defaults,
                },
            )
            created = cursor.fetchone()[0]
            ids = [dossier_id for dossier_id, _status, _diff in changed]
            # The changed dossiers as they were (their old weeks change too), read before the update.
            before = list(Dossier.objects.filter(pk__in=ids).values(*DOSSIER_FIELDS)) if ids else []
            if changed:
                cursor.execute(self.update, [ids])
                with cursor.copy(self.copy_events) as copy:
                    for dossier_id, status, differences in changed:
                        copy.write_row(
                            (
                                dossier_id,
                                self.actor_id,
                                self.now,
                                "dossier.import_updated",
                                status,
                                json.dumps(_updated_details(self.job, differences)),
                            )
                        )
            # Dropped here rather than at commit: the batch may run inside an outer transaction
            # (a test, or a caller's atomic block), where it is only a savepoint.
            cursor.execute(f"DROP TABLE {self.TABLE}")
        unchanged = len(rows) - created - len(changed) - other_unit
        # The batch's rows as they now are (created, changed, or unchanged: marking an unchanged
        # dossier's weeks only recounts them), and the changed ones as they were.
        mark_dossiers([*before, *rows])
        return created, len(changed), unchanged
