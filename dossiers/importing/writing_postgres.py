"""Writing an import on PostgreSQL: a temporary staging table filled by COPY as the file is
checked, the codes checked set-wise, and the whole file written in one transaction."""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from communes.weekmarks import DOSSIER_FIELDS, mark_weeks, monday_of
from core.uploads import MAX_REPORTED_ERRORS
from dossiers import workdays
from dossiers.codes import parse_code
from dossiers.importing.checking import repeated_message, taken_message
from dossiers.importing.writing import IMPORTED_FIELDS, _imported_details
from dossiers.models import Dossier, DossierCodeSequence, DossierEvent, ImportJob
from dossiers.services import new_tracking_pin

logger = logging.getLogger(__name__)


# COPY's text format: a backslash, a tab or a line break in a value is escaped; NULL is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"

# How each type of cell is written (the staging table's types: text, integers, dates, moments
# with their zone), learnt per type on first sight: choices write as their value.
_WRITERS = {type(None): lambda _value: _NULL, str: str.__str__, int: int.__repr__}


def _writer(kind: type):
    if issubclass(kind, bool):
        writer = lambda value: "t" if value else "f"  # noqa: E731
    elif issubclass(kind, int):  # IntegerChoices
        writer = int.__repr__
    elif issubclass(kind, str):  # TextChoices
        writer = str.__str__
    elif issubclass(kind, date):  # and datetime
        writer = kind.isoformat
    else:
        raise TypeError(f"no COPY text for {kind.__name__}")
    _WRITERS[kind] = writer
    return writer


def copy_line(values: list) -> str:
    """A row in COPY's text format. Most cells need no escaping: the row is joined as it is and
    done again with escapes only when a cell held a tab, a line break or a backslash."""
    writers = _WRITERS
    cells = [(writers.get(type(value)) or _writer(type(value)))(value) for value in values]
    text = "\t".join(cells)
    if (
        text.count("\t") != len(values) - 1
        or text.count("\\") != values.count(None)  # the backslashes of \N and no other
        or "\n" in text
        or "\r" in text
    ):
        text = "\t".join(
            cell if value is None else cell.translate(_COPY_ESCAPES)
            for cell, value in zip(cells, values, strict=True)
        )
    return text


class PostgresStage:
    """PostgreSQL: the checked rows are copied into a temporary table as the file is read; the
    codes are checked in two set-wise statements; the file is written in one transaction by a
    handful of statements, whatever its size:

    1. known codes whose imported fields differ are locked (in code order, so two imports
       sharing dossiers lock them in the same order), updated, and given their
       ``dossier.import_updated`` events listing the changed fields;
    2. new codes are inserted with their ``dossier.imported`` events and the code sequences
       moved forward;
    3. the (unit, week) pairs whose figures changed — the weeks of every written dossier, as it
       was and as it is — are worked out in one statement and marked with
       ``communes.weekmarks.mark_weeks``.

    The temporary table lives as long as the job runs in this session (the progress of the
    checking is committed between batches) and is dropped at the end.
    """

    TABLE = "import_staging"
    TOUCHED = "import_touched"

    def __init__(self, job: ImportJob):
        self.job = job
        self.staged = 0
        self.good = 0  # staged rows not marked bad
        self.known = 0  # of which the code belonged to a dossier of the same unit at the check
        quote = connection.ops.quote_name
        meta = Dossier._meta
        self.columns = ["code", *IMPORTED_FIELDS]
        self.create_tables = [
            f"DROP TABLE IF EXISTS {self.TABLE}, {self.TOUCHED}",
            f"CREATE TEMPORARY TABLE {self.TABLE} (line integer NOT NULL, bad boolean NOT NULL DEFAULT false,"
            + ", ".join(f" {quote(name)} {meta.get_field(name).db_type(connection)}" for name in self.columns)
            + ", tracking_pin varchar(6), sequence_unit_id bigint, sequence_day date,"
            " sequence_number integer)",
            f"CREATE TEMPORARY TABLE {self.TOUCHED} (receiving_unit_id bigint, received_at timestamptz, "
            "due_date date, finished_at timestamptz, returned_at timestamptz)",
        ]
        self.copy = (
            f"COPY {self.TABLE} (line, {', '.join(map(quote, self.columns))}, "
            "tracking_pin, sequence_unit_id, sequence_day, sequence_number) FROM STDIN"
        )
        dossiers = quote(meta.db_table)
        events = quote(DossierEvent._meta.db_table)
        sequences = quote(DossierCodeSequence._meta.db_table)
        week_fields = ", ".join(quote(name) for name in DOSSIER_FIELDS)
        # Each staged row against the others and the dossiers, in one join: repeated codes (every
        # occurrence after the first) and codes of another unit's dossier are marked bad; the
        # good rows are counted as new or known (the writing skips what is not needed).
        self.classify = (
            f"WITH c AS ("  # noqa: S608 - names from the models
            f" SELECT s.line, count(*) OVER (PARTITION BY s.code ORDER BY s.line) > 1 AS repeated,"
            f" coalesce(d.receiving_unit_id <> s.receiving_unit_id, false) AS taken, d.id IS NULL AS new"
            f" FROM {self.TABLE} s LEFT JOIN {dossiers} d ON d.code = s.code"
            f"), bad AS ("
            f" UPDATE {self.TABLE} s SET bad = true FROM c WHERE c.line = s.line AND (c.repeated OR c.taken)"
            f" RETURNING s.line"
            f") SELECT (SELECT count(*) FROM bad),"
            f" (SELECT count(*) FROM c WHERE NOT c.repeated AND NOT c.taken AND NOT c.new)"
        )
        # Most files hold only new codes, each once: two cheap questions (index-only probes of
        # the codes, a grouping of the staged ones) settle that before the classification.
        self.any_known_or_repeated = (
            f"SELECT EXISTS (SELECT 1 FROM {self.TABLE} s JOIN {dossiers} d ON d.code = s.code),"  # noqa: S608
            f" EXISTS (SELECT 1 FROM {self.TABLE} GROUP BY code HAVING count(*) > 1)"
        )
        self.bad_rows = (
            f"SELECT s.line, s.code, count(*) OVER (PARTITION BY s.code ORDER BY s.line) > 1,"  # noqa: S608
            f" EXISTS (SELECT 1 FROM {dossiers} d WHERE d.code = s.code"
            f" AND d.receiving_unit_id <> s.receiving_unit_id)"
            f" FROM {self.TABLE} s WHERE s.code IN (SELECT code FROM {self.TABLE} WHERE bad)"
            f" ORDER BY s.line"
        )
        differs = " OR ".join(f"d.{quote(n)} IS DISTINCT FROM s.{quote(n)}" for n in IMPORTED_FIELDS)
        # The changed fields as _updated_details names them: "_id" dropped, the identity number last.
        named = [n for n in IMPORTED_FIELDS if n != "applicant_id_number"] + ["applicant_id_number"]
        changed_names = ", ".join(
            f"CASE WHEN d.{quote(n)} IS DISTINCT FROM s.{quote(n)} THEN '{n.removesuffix('_id')}' END"
            for n in named
        )
        assignments = ", ".join(f"{quote(n)} = s.{quote(n)}" for n in IMPORTED_FIELDS)
        self.update = (
            f"WITH old AS ("  # noqa: S608
            f" SELECT d.id, {', '.join(f'd.{quote(n)}' for n in DOSSIER_FIELDS)},"
            f" array_remove(ARRAY[{changed_names}], NULL) AS fields"
            f" FROM {self.TABLE} s JOIN {dossiers} d ON d.code = s.code"
            f" WHERE NOT s.bad AND d.receiving_unit_id = s.receiving_unit_id AND ({differs})"
            f" ORDER BY d.code FOR UPDATE OF d"
            f"), updated AS ("
            f" UPDATE {dossiers} d SET {assignments},"
            " original_due_date = CASE WHEN d.original_due_date IS NULL"
            " OR s.due_date < d.original_due_date THEN s.due_date ELSE d.original_due_date END,"
            f" version = d.version + 1, updated_at = %(written_at)s"
            f" FROM old, {self.TABLE} s WHERE d.id = old.id AND s.code = d.code AND NOT s.bad"
            f" RETURNING d.id, d.status, old.fields, {', '.join(f'd.{quote(n)}' for n in DOSSIER_FIELDS)},"
            f" {', '.join(f'old.{quote(n)} AS old_{n}' for n in DOSSIER_FIELDS)}"
            f"), events AS ("
            f" INSERT INTO {events} (dossier_id, actor_id, at, action, from_status, to_status, details)"
            f" SELECT id, %(actor)s, %(now)s, 'dossier.import_updated', NULL, status,"
            f" jsonb_build_object('import', %(job)s, 'fields', to_jsonb(fields)) FROM updated ORDER BY id"
            f"), touched AS ("
            f" INSERT INTO {self.TOUCHED} ({week_fields})"
            f" SELECT {week_fields} FROM updated"
            f" UNION ALL SELECT {', '.join(f'old_{n}' for n in DOSSIER_FIELDS)} FROM updated"
            f") SELECT count(*) FROM updated"
        )
        # New codes: every column of the dossier, from the staging table or as a new dossier
        # gets it (created_by, created_at, defaults), with its event and the sequences.
        insert_columns, values = [], []
        for model_field in meta.concrete_fields:
            if model_field.primary_key or model_field.generated:  # the database computes these
                continue
            insert_columns.append(quote(model_field.column))
            if model_field.attname in (*self.columns, "tracking_pin"):
                values.append(f"s.{quote(model_field.attname)}")
            elif model_field.attname == "original_due_date":
                values.append("s.due_date")
            elif model_field.attname == "created_by_id":
                values.append("%(actor)s")
            elif model_field.attname in ("created_at", "updated_at"):
                values.append("%(written_at)s")
            else:
                values.append(f"%(default_{model_field.attname})s")
        self.defaults = {
            f"default_{model_field.attname}": model_field.get_default()
            for model_field in meta.concrete_fields
            if not model_field.primary_key
            and not model_field.generated
            and model_field.attname not in (*self.columns, "tracking_pin")
            and model_field.attname not in ("original_due_date", "created_by_id", "created_at", "updated_at")
        }
        self.known_filter = f"AND NOT EXISTS (SELECT 1 FROM {dossiers} d WHERE d.code = s.code)"  # noqa: S608
        self.insert = (
            f"WITH created AS ("  # noqa: S608
            f" INSERT INTO {dossiers} ({', '.join(insert_columns)})"
            f" SELECT {', '.join(values)} FROM {self.TABLE} s"
            f" WHERE NOT s.bad %(known_filter)s"
            # In order of reception: the indexes that lead with a moment or a date (reception,
            # due date, end, return: most of the table's indexes) take their new entries page
            # by page instead of all over; at 1M dossiers this halves the index pages the
            # insert reads and writes (docs/performance.md).
            f" ORDER BY s.received_at, s.code ON CONFLICT (code) DO NOTHING"
            f" RETURNING id, code, status, {week_fields}"
            f"), events AS ("
            f" INSERT INTO {events} (dossier_id, actor_id, at, action, from_status, to_status, details)"
            f" SELECT id, %(actor)s, %(now)s, 'dossier.imported', NULL, status, %(details)s::jsonb"
            f" FROM created ORDER BY id"
            f"), sequences AS ("
            f" INSERT INTO {sequences} AS q (unit_id, day, last_number)"
            # Every good row's place in its unit's numbering, created or not: a code that exists
            # (known, or written by another import since the check) is one the sequence must not
            # hand out again either. No join of the created rows back to the staged ones.
            f" SELECT s.sequence_unit_id, s.sequence_day, max(s.sequence_number) FROM {self.TABLE} s"
            f" WHERE NOT s.bad AND s.sequence_day IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
            f" ON CONFLICT (unit_id, day) DO UPDATE"
            f" SET last_number = GREATEST(q.last_number, excluded.last_number)"
            f"), touched AS ("
            f" INSERT INTO {self.TOUCHED} ({week_fields}) SELECT {week_fields} FROM created"
            f") SELECT count(*) FROM created"
        )
        self.clean_gin = (
            "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"  # noqa: S608 - a model's table
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            f" WHERE i.indrelid = '{meta.db_table}'::regclass AND a.amname = 'gin'"
        )
        # The weeks of the written dossiers, as communes.weekmarks.dossier_weeks works them out
        # for one dossier: received, finished and returned weeks, and the weeks from the due date
        # (not before the reception) to the close, or to this week, in which it may be overdue.
        # Each distinct combination of unit and weeks is expanded once (a file holds a few
        # units and weeks for many rows): a third of the time of expanding every row.
        local = "AT TIME ZONE 'Asia/Ho_Chi_Minh'"
        week = "date_trunc('week', {} " + local + ")"
        self.weeks = (
            f"WITH k AS (SELECT DISTINCT receiving_unit_id AS unit, {week.format('received_at')} AS received,"  # noqa: S608
            f" {week.format('finished_at')} AS finished, {week.format('returned_at')} AS returned,"
            f" date_trunc('week', due_date::timestamp) AS due"
            f" FROM {self.TOUCHED} WHERE received_at IS NOT NULL)"
            f" SELECT DISTINCT k.unit, w.monday::date FROM k, LATERAL ("
            f" SELECT k.received UNION ALL SELECT k.finished UNION ALL SELECT k.returned"
            f" UNION ALL SELECT generate_series(greatest(k.due, k.received),"
            f" coalesce(least(k.finished, k.returned), %(this_week)s::timestamp), interval '7 days')"
            f") w (monday) WHERE w.monday IS NOT NULL"
        )
        assert str(workdays.TZ) == "Asia/Ho_Chi_Minh"  # the zone written into the statement above

    def prepare(self, good: list[tuple[int, dict]], catalogue) -> tuple[int, bytes]:
        """The checked rows of a batch as COPY data (text format), with a tracking PIN each and
        their place in their unit's numbering. Pure Python, no database: the forked helper that
        checks half of a big file calls it for its batches (jobs.py)."""
        columns = self.columns
        prefixes = catalogue.prefixes
        lines = []
        for line, fields in good:
            code = fields["code"]
            unit_id = fields["receiving_unit_id"]
            parsed = parse_code(code)
            if parsed.prefix == prefixes[unit_id]:  # a code in the unit's own numbering
                sequence = (unit_id, parsed.day, parsed.number)
            else:
                sequence = (None, None, None)
            values = [line, *[fields[name] for name in columns], new_tracking_pin(), *sequence]
            lines.append(copy_line(values))
        lines.append("")
        return len(good), "\n".join(lines).encode()

    def add(self, prepared: tuple[int, bytes]) -> None:
        if not self.staged:
            with connection.cursor() as cursor:
                for statement in self.create_tables:
                    cursor.execute(statement)
        self.staged += 1
        count, data = prepared
        if not count:
            return
        with connection.cursor() as cursor, cursor.copy(self.copy) as copy:
            copy.write(data)
        self.good += count

    def check(self) -> tuple[list[dict], int]:
        """Codes repeated in the file and codes of another unit's dossier: the rows are marked
        bad (left out of the writing) and the first MAX_REPORTED_ERRORS of them reported."""
        if not self.good:
            return [], 0
        with connection.cursor() as cursor:
            cursor.execute(self.any_known_or_repeated)
            if not any(cursor.fetchone()):
                return [], 0
            cursor.execute(self.classify)
            count, self.known = cursor.fetchone()
            self.good -= count
            if not count:
                return [], 0
            cursor.execute(self.bad_rows)
            errors = []
            while len(errors) < MAX_REPORTED_ERRORS and (row := cursor.fetchone()):
                line, code, repeated, taken = row
                problems = [repeated_message(code)] * repeated + [taken_message(code)] * taken
                if problems:
                    errors.append({"line": line, "message": " ".join(problems)})
        return errors, count

    def write(self, now: datetime) -> tuple[int, int, int]:
        """The good rows, in one transaction: (created, updated, unchanged)."""
        if not self.good:
            return 0, 0, 0
        merging = threading.Thread(target=self._merge_pending_lists, name=f"import-{self.job.pk}-gin")
        try:
            return self._write(now, merging)
        finally:
            if merging.ident is not None:
                merging.join()

    def _merge_pending_lists(self) -> None:
        """The trigram indexes (GIN) took the new names and codes into their pending lists
        (``_write``): merged in bulk, so that searches do not scan a long pending list until the
        next vacuum. On a connection of its own, started as soon as the rows are inserted: the
        merge runs on the second core while the transaction marks the weeks and commits (its
        foreign keys are checked then). An index entry carries no visibility, so merging before
        the commit is safe; if the transaction rolls back, vacuum removes the entries as it does
        any aborted insert's. The file is imported whether or not the merge succeeds (e.g. a
        role that does not own the indexes)."""
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.clean_gin)
        except DatabaseError:
            logger.warning("import job %s: pending lists of the trigram indexes not merged", self.job.pk)
        finally:
            connection.close()  # this thread's own connection

    @transaction.atomic
    def _write(self, now: datetime, merging: threading.Thread) -> tuple[int, int, int]:
        params = {
            "actor": self.job.created_by_id,
            "job": self.job.pk,
            "now": now,
            "written_at": timezone.now(),
            "details": json.dumps(_imported_details(self.job)),
            **self.defaults,
        }
        with connection.cursor() as cursor:
            # A few statements over many rows. JIT compiling costs more than it saves here; the
            # sorts by code fit in memory; the trigram indexes (GIN) take the new entries into
            # their pending lists, merged once (_merge_pending_lists) instead of every 4 MB.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute("SET LOCAL gin_pending_list_limit = '256MB'")
            updated = 0
            if self.known:
                cursor.execute(self.update, params)
                updated = cursor.fetchone()[0]
            # When no staged code was known at the check, every row is new: the insert skips the
            # probe for existing codes (ON CONFLICT still leaves alone a code taken since).
            insert = self.insert.replace("%(known_filter)s", self.known_filter if self.known else "")
            cursor.execute(insert, params)
            created = cursor.fetchone()[0]
            merging.start()
            cursor.execute(self.weeks, {"this_week": monday_of(timezone.now())})
            mark_weeks(cursor.fetchall())
        # Known codes left as they were, and codes another unit took since the check (left
        # alone): neither created nor updated.
        unchanged = max(self.known - updated, 0)
        return created, updated, unchanged

    def close(self) -> None:
        if self.staged:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}, {self.TOUCHED}")
