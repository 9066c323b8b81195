"""Fast, repeatable demo history: N dossiers over two years, with their children, in bulk.

``generate(count=N, communes=[...], seed=2026)`` writes dossiers and everything hanging off them —
documents, events, supplement requests, extensions, and for postal dossiers the postal items,
their events and delivery attempts — with PostgreSQL ``COPY … FROM STDIN`` (``bulk_create`` in
batches elsewhere, e.g. SQLite). It is built for a million dossiers in well under two minutes on
two cores:

* ids are assigned here, from the tables' current maximum, so child rows point at their parents
  without a round trip; the id sequences are moved past them at the end (``setval``);
* the working-day calendar is computed once per day of the period (``dossiers.workdays`` with the
  local overrides), so due dates and timeliness are array look-ups, not calls per row;
* the dossiers of a day are generated together, ordered by time of receipt, and numbered per
  unit and day (``<prefix>-<YYMMDD>-<NNNN>``); the ``DossierCodeSequence`` rows are advanced to
  the last number used, and each post office's ``ItemCodeSequence`` past the S10 serials used,
  so the desk and the post continue after the demo's numbers;
* on PostgreSQL, when a table receives more rows than it holds, its secondary indexes are
  dropped for the load and rebuilt afterwards (one sort instead of millions of index inserts);
  the tables are ANALYZEd at the end.

Everything comes from one seeded ``random.Random``: the same seed gives the same data. Statuses
agree with the dates and the table constraints: finished/returned after receipt, timeliness from
the (possibly extended or restarted) due date, a reason for declining postal return exactly when
the return is not by post.

It stays one module of more than 600 lines on purpose: the generation of one day, the column
lists of each table and the COPY writer share the id counters and the day's calendar arrays,
and splitting them would put a function call per row back into the loop that makes it fast.
"""

from __future__ import annotations

import queue
import random
import sys
import threading
import time as _time
from bisect import bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Role, User
from communes.models import PostOffice
from communes.weekmarks import mark_weeks
from dossiers import workdays
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
    SupplementRequest,
)
from dossiers.statuses import Status
from postal import s10
from postal.models import DeliveryAttempt, ItemCodeSequence, ItemEvent, PostalItem

DAYS_OF_HISTORY = 730
FLUSH_EVERY = 25_000  # dossiers generated before the rows are written
BATCH_SIZE = 2_000  # bulk_create batch (non-PostgreSQL)

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Phan"]
MIDDLE = ["Văn", "Thị", "Minh", "Đức", "Thanh", "Ngọc", "Hữu", "Quang", "Thu", "Xuân"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hạnh", "Hùng", "Lan", "Long", "Mai", "Nam", "Nga", "Phong"]
GIVEN += ["Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy", "Hiếu", "Loan", "Khánh", "Yến"]
NAMES = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]

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
DOC_FORMS = ["original", "copy", "certified_copy"]
SUPPLEMENT_ITEMS = "Bản sao giấy tờ tùy thân có chứng thực"
EXTENSION_REASON = "Cần xác minh thêm thông tin với cơ quan liên quan"
# S10 service indicators by 100,000-serial cycle of an office (office_serial wraps every 100,000).
RETURN_SERVICES = ["EB", "EC", "ED", "EE", "EF", "EG", "EH", "EI", "EJ", "EK"]
INTAKE_SERVICES = ["RB", "RC", "RD", "RE", "RF", "RG", "RH", "RI", "RJ", "RK"]
# Vietnam keeps UTC+7 all year: a fixed offset is exact and much cheaper than a zoneinfo lookup.
ICT = dt_timezone(timedelta(hours=7))
MINUTES = [timedelta(minutes=m) for m in range(1440)]
DETAILS_DEMO = '{"demo": true}'

# The national status codes as plain ints: rows are formatted for COPY millions of times.
REGISTERED, ACCEPTED, REFUSED, PROCESSING, SUPPLEMENT_REQUESTED = (
    int(status)
    for status in (
        Status.REGISTERED,
        Status.ACCEPTED,
        Status.REFUSED,
        Status.PROCESSING,
        Status.SUPPLEMENT_REQUESTED,
    )
)
WITHDRAWN, STOPPED, FINISHED, RETURNED = (
    int(status) for status in (Status.WITHDRAWN, Status.STOPPED, Status.FINISHED, Status.RETURNED)
)


class _Random(random.Random):
    """random.Random with integer draws made straight from ``random()``: the standard randint,
    randrange and choice go through several Python-level calls each (``_randbelow`` and its
    checks), a large share of the generator's time at millions of draws. ``int(random() * n)``
    is as uniform as the demo needs (the bias is below n / 2**53) and still repeatable."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, n: int) -> int:  # type: ignore[override] - only randrange(n) is used here
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class Calendar:
    """Working days of the period as arrays: add_working_days and due dates by index look-up."""

    def __init__(self, first: date, last: date):
        overrides = workdays.local_overrides()
        self.base = first.toordinal()
        span = (last - first).days + 1
        self.working = [
            workdays.is_working_day(first + timedelta(days=i), overrides=overrides) for i in range(span)
        ]
        self.list = [self.base + i for i in range(span) if self.working[i]]
        # after[i]: index in self.list of the first working day strictly after day base+i.
        self.after = [bisect_right(self.list, self.base + i) for i in range(span)]
        self.midnight = [
            datetime.combine(first + timedelta(days=i), datetime.min.time(), ICT) for i in range(span)
        ]
        self.dates = [first + timedelta(days=i) for i in range(span)]

    def add(self, day: int, n: int) -> int:
        """workdays.add_working_days on ordinals."""
        if n == 0:
            return day
        return self.list[self.after[day - self.base] + n - 1]

    def counting_start(self, moment: int) -> int:
        day, minute = divmod(moment, 1440)
        if self.working[day - self.base] and minute <= 900:
            return day
        return self.add(day, 1)

    def due(self, moment: int, n: int) -> int:
        return self.add(self.counting_start(moment), n)

    def dt(self, moment: int | None) -> datetime | None:
        if moment is None:
            return None
        day, minute = divmod(moment, 1440)
        return self.midnight[day - self.base] + MINUTES[minute]

    def date(self, day: int | None) -> date | None:
        return None if day is None else self.dates[day - self.base]


# Column lists, in the order the rows below are built; any other concrete field of the model (a
# later migration) gets its default. Moments are ints (minutes since day 1), days ordinals.
DOSSIER_COLUMNS = [
    "id",
    "code",
    "procedure_id",
    "receiving_unit_id",
    "applicant_name",
    "applicant_phone",
    "applicant_address",
    "applicant_id_number",
    "tracking_pin",
    "intake_channel",
    "return_channel",
    "decline_reason",
    "decline_note",
    "received_by_post",
    "status",
    "received_at",
    "due_date",
    "original_due_date",
    "finished_at",
    "returned_at",
    "timeliness",
    "version",
    "created_by_id",
    "created_at",
    "updated_at",
]
DOSSIER_MOMENTS = {"received_at", "finished_at", "returned_at", "created_at", "updated_at"}
DOSSIER_DAYS = {"due_date", "original_due_date"}
DOCUMENT_COLUMNS = ["id", "dossier_id", "name", "form", "count", "returned"]
EVENT_COLUMNS = ["id", "dossier_id", "actor_id", "at", "action", "from_status", "to_status", "details"]
SUPPLEMENT_COLUMNS = [
    "id",
    "dossier_id",
    "requested_at",
    "requested_by_id",
    "items",
    "completed_at",
    "completed_by_id",
]
EXTENSION_COLUMNS = [
    "id",
    "dossier_id",
    "issued_at",
    "issued_by_id",
    "reason",
    "previous_due_date",
    "new_due_date",
]
ITEM_COLUMNS = [
    "id",
    "code",
    "dossier_id",
    "direction",
    "post_office_id",
    "status",
    "tier",
    "handover_date",
    "target_date",
    "postage",
    "fees_collected",
    "recipient_name",
    "recipient_address",
    "recipient_phone",
    "recipient_is_proxy",
    "proxy_authorisation",
    "id_checked",
    "delivered_at",
    "attempts",
    "version",
    "created_by_id",
    "created_at",
    "updated_at",
]
ITEM_EVENT_COLUMNS = ["id", "item_id", "actor_id", "at", "action", "from_status", "to_status", "details"]
ATTEMPT_COLUMNS = ["id", "item_id", "at", "outcome", "note", "by_id"]


class Table:
    """One target table: its columns, which are moments/days, and the rows waiting to be written."""

    def __init__(self, model, columns, moments=(), days=()):
        self.model = model
        names = {f.attname for f in model._meta.concrete_fields}
        missing = [c for c in columns if c not in names]
        if missing:
            raise RuntimeError(f"{model.__name__} has no column {missing}")
        extra = [f for f in model._meta.concrete_fields if f.attname not in columns]
        self.columns = list(columns) + [f.attname for f in extra]
        self.extra = tuple(_db_default(f) for f in extra)
        self.moment_idx = [i for i, c in enumerate(columns) if c in moments]
        self.day_idx = [i for i, c in enumerate(columns) if c in days]
        self.rows: list[tuple] = []
        self.written = 0
        self.freeze = False  # PostgreSQL: emptied in this transaction, so COPY … FREEZE
        self.next_id = (model.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1

    def take_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


def _db_default(field):
    value = field.get_default()
    if isinstance(field, models.JSONField):
        import json

        return json.dumps(value)
    return value


def _escape(text: str) -> str:
    """A string as COPY's text format wants it."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _text_formatter(table: Table, calendar: Calendar):
    """A compiled function turning one row tuple into one line of COPY text format.

    Strings built here are trusted (no tab, newline or backslash; see _escape for catalogue
    names). Moments become ``YYYY-MM-DD HH:MM:00+07`` from per-day and per-minute strings.
    """
    fields = {f.attname: f for f in table.model._meta.concrete_fields}
    parts = []
    for i, column in enumerate(table.columns[: len(table.columns) - len(table.extra)]):
        field, value = fields[column], f"r[{i}]"
        if i in table.moment_idx:
            text = f"D[{value} // 1440 - B] + M[{value} % 1440]"
        elif i in table.day_idx:
            text = f"D[{value} - B]"
        elif isinstance(field, models.BooleanField):
            text = f"('t' if {value} else 'f')"
        else:
            text = f"str({value})"
        if field.null:
            text = f"('\\\\N' if {value} is None else {text})"
        parts.append(text)
    for value in table.extra:
        if value is None:
            parts.append("'\\\\N'")
        elif isinstance(value, bool):
            parts.append(repr("t" if value else "f"))
        else:
            parts.append(repr(_escape(str(value))))
    source = "lambda r: " + " + '\\t' + ".join(parts) + " + '\\n'"
    namespace = {
        "D": [d.isoformat() for d in calendar.dates],
        "M": [f" {m // 60:02d}:{m % 60:02d}:00+07" for m in range(1440)],
        "B": calendar.base,
    }
    return eval(source, namespace)  # noqa: S307 - built above from the model's own fields


class _Writer:
    """Writes Table rows: COPY on PostgreSQL (in a second thread, so the database loads one
    chunk while Python builds the next), bulk_create elsewhere."""

    def __init__(self, calendar: Calendar, tables: dict[str, Table]):
        self.calendar = calendar
        self.postgres = connection.vendor == "postgresql"
        self.error: BaseException | None = None
        if self.postgres:
            self.formatters = {id(t): _text_formatter(t, calendar) for t in tables.values()}
            connection.ensure_connection()
            self.raw = connection.connection
            self.queue: queue.Queue = queue.Queue(maxsize=4)
            self.thread = threading.Thread(target=self._copier, name="demo-copy", daemon=True)
            self.thread.start()

    def convert(self, table: Table, row: tuple) -> tuple:
        if not table.moment_idx and not table.day_idx:
            return row + table.extra
        values = list(row)
        dt, day = self.calendar.dt, self.calendar.date
        for i in table.moment_idx:
            values[i] = dt(values[i])
        for i in table.day_idx:
            values[i] = day(values[i])
        return (*values, *table.extra)

    def _copier(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            if self.error is not None:
                continue
            sql, text = job
            try:
                with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                    copy.write(text)
            except BaseException as error:  # reported by close() in the main thread
                self.error = error

    def flush(self, table: Table) -> None:
        if not table.rows:
            return
        if self.error is not None:
            raise self.error
        if self.postgres:
            quoted = ", ".join(connection.ops.quote_name(c) for c in table.columns)
            sql = f"COPY {connection.ops.quote_name(table.model._meta.db_table)} ({quoted}) FROM STDIN"
            if table.freeze:
                sql += " WITH (FREEZE)"
            self.queue.put((sql, "".join(map(self.formatters[id(table)], table.rows))))
        else:
            model, columns, convert = table.model, table.columns, self.convert
            objects = [model(**dict(zip(columns, convert(table, row), strict=True))) for row in table.rows]
            model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        table.written += len(table.rows)
        table.rows = []

    def close(self) -> None:
        if self.postgres:
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error


class _BulkLoad:
    """On PostgreSQL, for a table receiving at least as many rows as it holds: drop its secondary
    indexes, foreign keys and unique constraints for the load and put them back afterwards (one
    sort per index and one join per foreign key, instead of millions of single-row checks).
    Re-adding a constraint validates every row, so the data is checked all the same.

    When every target table is empty (a first load), they are also truncated in this transaction
    (with any empty table referencing them), so that COPY can write the rows already frozen
    (``COPY … FREEZE``): no hint bits to set and no pages to write again when the indexes are
    built, ANALYZE reads them or autovacuum freezes them later."""

    def __init__(self, tables: list[Table], count: int):
        self.indexes: list[tuple[str, str]] = []
        self.constraints: list[tuple[str, str, str]] = []
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        empty = []
        with connection.cursor() as cursor:
            for table in tables:
                name = table.model._meta.db_table
                cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {quote(name)} LIMIT %s) t", [count])  # noqa: S608
                held = cursor.fetchone()[0]
                if held >= count:
                    continue  # topping up a big table: keep everything in place
                if held == 0:
                    empty.append(table)
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC",
                    [name],
                )
                self.constraints += [(name, con, definition) for con, definition in cursor.fetchall()]
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                    [name],
                )
                self.indexes += cursor.fetchall()
            for table_name, constraint, _definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table_name)} DROP CONSTRAINT {quote(constraint)}")
            for index, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {index}")
            if empty and len(empty) == len(tables):
                self._truncate(cursor, empty)

    @staticmethod
    def _truncate(cursor, tables: list[Table]) -> None:
        """TRUNCATE the (empty) tables so COPY may freeze their rows. A table still referenced by
        a foreign key can only be truncated together with the referencing table: those are added
        when they are empty too; if one holds rows, nothing is truncated (plain COPY)."""
        # As regclass input and output: names usable in SQL as they are.
        names = [connection.ops.quote_name(table.model._meta.db_table) for table in tables]
        while True:
            cursor.execute(
                "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = ANY(%s::regclass[]) AND NOT conrelid = ANY(%s::regclass[]) ORDER BY 1",
                [names, names],
            )
            referencing = [row[0] for row in cursor.fetchall()]
            if not referencing:
                break
            for name in referencing:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")  # noqa: S608 - a catalogue name
                if cursor.fetchone()[0]:
                    return
            names += referencing
        cursor.execute(f"TRUNCATE {', '.join(names)}")
        for table in tables:
            table.freeze = True

    def restore(self) -> None:
        if not self.indexes and not self.constraints:
            return
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _index, definition in self.indexes:
                cursor.execute(definition)
            # Unique constraints first (their indexes), then the foreign keys.
            for table_name, constraint, definition in sorted(
                self.constraints, key=lambda c: "FOREIGN" in c[2]
            ):
                cursor.execute(
                    f"ALTER TABLE {quote(table_name)} ADD CONSTRAINT {quote(constraint)} {definition}"
                )


class Generator:
    def __init__(self, *, communes, seed: int, now: datetime):
        self.rng = _Random(seed)
        self.now = now
        local_now = now.astimezone(ICT)
        self.today = local_now.date().toordinal()
        self.now_m = self.today * 1440 + local_now.hour * 60 + local_now.minute
        first = date.fromordinal(self.today - DAYS_OF_HISTORY - 10)
        self.cal = Calendar(first, date.fromordinal(self.today + 400))
        self.communes = communes
        weights = [max(1, 10 - i) for i in range(len(communes))]
        self.commune_cum = list(_accumulate(weights))
        procedures = list(Procedure.objects.filter(active=True).select_related("field").order_by("id"))
        by_field = defaultdict(list)
        for procedure in procedures:
            by_field[procedure.field.code].append(procedure)
        known = [p for code in FIELD_WEIGHTS for p in by_field.get(code, [])]
        others = [p for p in procedures if p.field.code not in FIELD_WEIGHTS]
        self.procedures = known + others
        self.procedure_cum = list(
            _accumulate(
                [FIELD_WEIGHTS[p.field.code] / len(by_field[p.field.code]) for p in known]
                + [1.0] * len(others)
            )
        )
        self.documents = {p.pk: [_escape(d) for d in p.document_list or ["Tờ khai"]] for p in self.procedures}
        officials = {}
        for user in User.objects.filter(role=Role.COMMUNE_OFFICIAL, unit__in=communes).order_by("id"):
            officials.setdefault(user.unit_id, user)
        self.official_ids = {unit_id: user.pk for unit_id, user in officials.items()}
        self.official_names = {
            unit_id: user.get_full_name() or user.username for unit_id, user in officials.items()
        }
        self.any_official = next(iter(self.official_ids.values()), None)
        self.numbers: dict[tuple[int, int], int] = {
            (row.unit_id, row.day.toordinal()): row.last_number
            for row in DossierCodeSequence.objects.filter(unit__in=communes)
        }
        self.decline_reasons = list(DECLINE_WEIGHTS)
        self.decline_cum = list(_accumulate(DECLINE_WEIGHTS.values()))
        self._postal_setup()

    def _postal_setup(self) -> None:
        """The post office serving each commune (its BĐVHX, else its district's post office)."""
        self.office_of: dict[int, PostOffice] = {}
        ranked = PostOffice.objects.filter(commune__in=self.communes).exclude(
            kind=PostOffice.Kind.DISTRICT_POST
        )
        for office in ranked.order_by("id"):
            self.office_of.setdefault(office.commune_id, office)
        # Communes without their own office are served by the district post office.
        district_post = (
            PostOffice.objects.filter(kind=PostOffice.Kind.DISTRICT_POST, commune__in=self.communes)
            .order_by("id")
            .first()
        )
        for commune in self.communes:
            if commune.pk not in self.office_of and district_post is not None:
                self.office_of[commune.pk] = district_post
        offices = {o.pk: o for o in self.office_of.values()}
        staff = {}
        for user in User.objects.filter(role=Role.POSTAL_STAFF, post_office__in=offices).order_by("id"):
            staff.setdefault(user.post_office_id, user.pk)
        fallback = (
            User.objects.filter(role__in=[Role.POST_MANAGER, Role.ADMINISTRATOR])
            .order_by("role", "id")
            .first()
        )
        self.postal_actor = {pk: staff.get(pk, fallback.pk if fallback else None) for pk in offices}
        if fallback is None and not staff:
            self.office_of = {}  # nobody to sign for the post: no postal items
        self.item_numbers = {
            row.post_office_id: row.last_number
            for row in ItemCodeSequence.objects.filter(post_office__in=offices)
        }
        self.code_cache: dict[tuple[int, int, bool], str] = {}

    def item_code(self, office_id: int, intake: bool) -> str:
        number = self.item_numbers.get(office_id, 0) + 1
        self.item_numbers[office_id] = number
        services = INTAKE_SERVICES if intake else RETURN_SERVICES
        service = services[min(len(services) - 1, number // 100_000)]
        return s10.make_code(service, s10.office_serial(office_id, number))

    # -- one day -------------------------------------------------------------------------------

    def day_counts(self, count: int) -> list[tuple[int, int]]:
        """(day, how many dossiers) for each working day of the period; volume grows over time."""
        # Days of the period on which the desk has opened by now (today only after 07:30 local,
        # so a run just after midnight still makes every dossier it was asked for).
        days = [
            d
            for d in self.cal.list
            if self.today - DAYS_OF_HISTORY <= d <= self.today and self.now_m - d * 1440 - 5 >= 450
        ]
        weights = [1 + 0.5 * (d - days[0]) / max(1, days[-1] - days[0]) for d in days]
        total = sum(weights)
        result, given, acc = [], 0, 0.0
        for day, weight in zip(days, weights, strict=True):
            acc += count * weight / total
            n = round(acc) - given
            given += n
            result.append((day, n))
        return result

    def at_on(self, day: int, not_before: int) -> int:
        moment = day * 1440 + self.rng.randint(480, 1005)
        return min(max(moment, not_before + 30), self.now_m)

    def run(self, count: int, tables: dict[str, Table], writer: _Writer) -> int:
        rng = self.rng
        made = 0
        for day, n in self.day_counts(count):
            if n <= 0:
                continue
            units = rng.choices(range(len(self.communes)), cum_weights=self.commune_cum, k=n)
            latest = min(990, self.now_m - day * 1440 - 5)  # ≥ 450: see day_counts
            minutes = sorted((rng.randint(450, latest), u) for u in units)
            for minute, unit_index in minutes:
                self.dossier(day, minute, self.communes[unit_index], tables)
            made += n
            if len(tables["dossier"].rows) >= FLUSH_EVERY:
                for table in tables.values():
                    writer.flush(table)
        for table in tables.values():
            writer.flush(table)
        return made

    def dossier(self, day: int, minute: int, unit, t: dict[str, Table]) -> None:
        rng, cal, now_m = self.rng, self.cal, self.now_m
        today = self.today
        procedure = self.procedures[bisect_right(self.procedure_cum, rng.random() * self.procedure_cum[-1])]
        days = procedure.processing_days
        received = day * 1440 + minute
        progress = 1 - (today - day) / DAYS_OF_HISTORY  # 0 two years ago → 1 today: postal use grows
        actor = self.official_ids.get(unit.id)
        signer = actor or self.any_official
        dossier_id = t["dossier"].take_id()
        first_event = len(t["event"].rows)

        roll = rng.random() * 100
        if roll < 70 - 20 * progress:
            intake = IntakeChannel.IN_PERSON
        elif roll < 92 - 10 * progress:
            intake = IntakeChannel.ONLINE
        else:
            intake = IntakeChannel.BCCI
        if intake == IntakeChannel.BCCI and not procedure.bcci_intake_allowed:
            intake = IntakeChannel.IN_PERSON
        return_channel = ReturnChannel.BCCI if rng.random() < 0.06 + 0.24 * progress else ReturnChannel.DESK
        if intake == IntakeChannel.ONLINE and return_channel == ReturnChannel.DESK and rng.random() < 0.3:
            return_channel = ReturnChannel.ONLINE
        if not procedure.bcci_return_allowed:
            return_channel = ReturnChannel.DESK
        decline_reason = decline_note = ""
        if return_channel != ReturnChannel.BCCI:
            decline_reason = self.decline_reasons[
                bisect_right(self.decline_cum, rng.random() * self.decline_cum[-1])
            ]
            if decline_reason == DeclineReason.OTHER:
                decline_note = rng.choice(OTHER_NOTES)

        key = (unit.id, day)
        number = self.numbers.get(key, 0) + 1
        self.numbers[key] = number
        code = f"{unit.dossier_prefix}-{cal.dates[day - cal.base]:%y%m%d}-{number:04d}"
        due = original_due = cal.due(received, days)
        events = t["event"]
        details_code = f'{{"code": "{code}", "demo": true}}'
        office = (
            self.office_of.get(unit.id)
            if (intake == IntakeChannel.BCCI or return_channel == "bcci")
            else None
        )
        created_at = received
        if intake == IntakeChannel.BCCI:
            # Registered by the post, then accepted when the handover record is signed.
            registered = received - rng.randint(60, 2 * 1440)
            created_at = registered
            events.rows.append(
                (
                    events.take_id(),
                    dossier_id,
                    actor,
                    registered,
                    "dossier.registered",
                    None,
                    REGISTERED,
                    details_code,
                )
            )
            events.rows.append(
                (
                    events.take_id(),
                    dossier_id,
                    actor,
                    received,
                    "dossier.accepted",
                    REGISTERED,
                    ACCEPTED,
                    details_code,
                )
            )
            if office is not None:
                self.intake_item(t, dossier_id, office, unit, registered, received)
        else:
            events.rows.append(
                (
                    events.take_id(),
                    dossier_id,
                    actor,
                    received,
                    "dossier.accepted",
                    None,
                    ACCEPTED,
                    details_code,
                )
            )

        documents = t["document"]
        names = self.documents[procedure.id]
        for name in names[: rng.randint(1, len(names))]:
            documents.rows.append(
                (
                    documents.take_id(),
                    dossier_id,
                    name,
                    rng.choice(DOC_FORMS),
                    1 if rng.random() < 0.75 else 2,
                    False,
                )
            )

        status = ACCEPTED
        received_day = day
        if days > 0 and rng.random() < 0.08 and signer is not None:
            asked = self.at_on(cal.add(received_day, 1), received)
            if asked < now_m:
                supplements = t["supplement"]
                events.rows.append(
                    (
                        events.take_id(),
                        dossier_id,
                        actor,
                        asked,
                        "dossier.supplement_requested",
                        status,
                        SUPPLEMENT_REQUESTED,
                        DETAILS_DEMO,
                    )
                )
                status = SUPPLEMENT_REQUESTED
                completed_day = cal.add(asked // 1440, rng.randint(1, 6))
                completed = completed_by = None
                if completed_day <= today:
                    completed = self.at_on(completed_day, asked)
                    completed_by = signer
                    due = max(cal.due(completed, days), due)
                    events.rows.append(
                        (
                            events.take_id(),
                            dossier_id,
                            actor,
                            completed,
                            "dossier.supplement_completed",
                            status,
                            PROCESSING,
                            f'{{"due_date": "{cal.date(due).isoformat()}", "demo": true}}',
                        )
                    )
                    status = PROCESSING
                supplements.rows.append(
                    (
                        supplements.take_id(),
                        dossier_id,
                        asked,
                        signer,
                        SUPPLEMENT_ITEMS,
                        completed,
                        completed_by,
                    )
                )

        if status == ACCEPTED and days > 0:
            started = self.at_on(received_day, received)
            events.rows.append(
                (
                    events.take_id(),
                    dossier_id,
                    actor,
                    started,
                    "dossier.processing_started",
                    status,
                    PROCESSING,
                    DETAILS_DEMO,
                )
            )
            status = PROCESSING

        if status == PROCESSING and days >= 3 and signer is not None and rng.random() < 0.03:
            issued_day = cal.add(received_day, max(1, days - 2))
            if issued_day < due and issued_day <= today:
                new_due = cal.add(due, rng.randint(2, 5))
                issued = self.at_on(issued_day, received)
                extensions = t["extension"]
                extensions.rows.append(
                    (extensions.take_id(), dossier_id, issued, signer, EXTENSION_REASON, due, new_due)
                )
                events.rows.append(
                    (
                        events.take_id(),
                        dossier_id,
                        actor,
                        issued,
                        "dossier.extended",
                        status,
                        status,
                        f'{{"due_date": "{cal.date(new_due).isoformat()}", "demo": true}}',
                    )
                )
                due = new_due

        finished = returned = None
        timeliness = ""
        if status in (ACCEPTED, PROCESSING):
            # When processing ends: mostly on or before the due date, some late.
            roll = rng.random()
            if roll < 0.07:
                end_day = cal.add(due, rng.randint(1, 6))
            elif roll < 0.25:
                end_day = due
            else:
                end_day = cal.add(cal.counting_start(received), rng.randint(0, max(0, days - 1)))
            if end_day <= today and not (end_day == today and rng.random() < 0.5):
                finished = self.at_on(end_day, received)
                outcome = rng.random()
                if outcome < 0.01:
                    final, action = WITHDRAWN, "dossier.withdrawn"
                elif outcome < 0.02:
                    final, action = STOPPED, "dossier.stopped"
                elif outcome < 0.03 and status == ACCEPTED:
                    final, action = REFUSED, "dossier.refused"
                else:
                    final, action = FINISHED, "dossier.finished"
                if final != WITHDRAWN:
                    finished_day = finished // 1440
                    timeliness = (
                        "early" if finished_day < due else ("on_time" if finished_day == due else "late")
                    )
                events.rows.append(
                    (events.take_id(), dossier_id, actor, finished, action, status, final, DETAILS_DEMO)
                )
                status = final
                if final == FINISHED:
                    bcci = return_channel == ReturnChannel.BCCI
                    return_day = cal.add(end_day, rng.randint(0, 3 if bcci else 5))
                    if return_day < today or (return_day == today and rng.random() < 0.3):
                        returned = self.at_on(return_day, finished)
                        events.rows.append(
                            (
                                events.take_id(),
                                dossier_id,
                                actor,
                                returned,
                                "dossier.returned",
                                status,
                                RETURNED,
                                f'{{"channel": "{return_channel}", "demo": true}}',
                            )
                        )
                        status = RETURNED
                    if bcci and office is not None:
                        self.return_item(t, dossier_id, office, status, end_day, finished, returned)

        t["dossier"].rows.append(
            (
                dossier_id,
                code,
                procedure.id,
                unit.id,
                NAMES[rng.randrange(len(NAMES))],
                f"09{rng.randrange(100_000_000):08d}",
                f"Thôn {rng.randint(1, 12)}, {unit.name}",
                f"044{rng.randrange(1_000_000_000):09d}" if rng.random() < 0.7 else "",
                f"{rng.randrange(1_000_000):06d}",
                intake,
                return_channel,
                decline_reason,
                decline_note,
                intake == IntakeChannel.BCCI and rng.random() < 0.5,
                status,
                received,
                due,
                original_due,
                finished,
                returned,
                timeliness,
                len(events.rows) - first_event,
                actor,
                created_at,
                returned or finished or received,
            )
        )

    # -- postal items ------------------------------------------------------------------------

    def intake_item(self, t, dossier_id, office, unit, registered, received) -> None:
        """A BCCI intake: taken in by the post, handed to the desk when the record was signed."""
        items, item_events = t["item"], t["item_event"]
        item_id = items.take_id()
        actor = self.postal_actor.get(office.id)
        desk = self.official_names.get(unit.id) or "Cán bộ một cửa"
        day = received // 1440
        items.rows.append(
            (
                item_id,
                self.item_code(office.id, True),
                dossier_id,
                "intake",
                office.id,
                "delivered",
                "local",
                registered // 1440,
                max(day, registered // 1440),
                15_000,
                0,
                desk,
                unit.name,
                "",
                False,
                "",
                True,
                received,
                0,
                3,
                actor,
                registered,
                received,
            )
        )
        item_events.rows.append(
            (
                item_events.take_id(),
                item_id,
                actor,
                registered,
                "item.intake_received",
                "",
                "accepted",
                DETAILS_DEMO,
            )
        )
        item_events.rows.append(
            (
                item_events.take_id(),
                item_id,
                actor,
                received,
                "item.delivered",
                "accepted",
                "delivered",
                DETAILS_DEMO,
            )
        )

    def return_item(self, t, dossier_id, office, status, end_day, finished, returned) -> None:
        """The result sent back by post: delivered (maybe at the second attempt), or still out."""
        rng, cal = self.rng, self.cal
        items, item_events, attempts = t["item"], t["item_event"], t["attempt"]
        item_id = items.take_id()
        actor = self.postal_actor.get(office.id)
        tier, tier_days = ("local", 1) if rng.random() < 0.8 else ("province", 2)
        ev = item_events.rows.append
        created = min(finished + 30, self.now_m)
        ev((item_events.take_id(), item_id, actor, created, "item.created", "", "created", DETAILS_DEMO))
        if returned is not None:
            handover = min(end_day, returned // 1440)
            accepted = max(created, min(returned - 60, handover * 1440 + 600))
            n_attempts = 2 if rng.random() < 0.12 else 1
            ev(
                (
                    item_events.take_id(),
                    item_id,
                    actor,
                    accepted,
                    "item.accepted",
                    "created",
                    "accepted",
                    DETAILS_DEMO,
                )
            )
            previous = "accepted"
            if n_attempts == 2:
                failed = max(accepted, returned - 180)
                attempts.rows.append((attempts.take_id(), item_id, failed, "not_home", "", actor))
                ev(
                    (
                        item_events.take_id(),
                        item_id,
                        actor,
                        failed,
                        "item.delivery_failed",
                        previous,
                        "delivery_failed",
                        '{"outcome": "not_home", "attempt": 1, "demo": true}',
                    )
                )
                previous = "delivery_failed"
            attempts.rows.append((attempts.take_id(), item_id, returned, "delivered", "", actor))
            ev(
                (
                    item_events.take_id(),
                    item_id,
                    actor,
                    returned,
                    "item.delivered",
                    previous,
                    "delivered",
                    f'{{"attempt": {n_attempts}, "demo": true}}',
                )
            )
            row = ("delivered", handover, cal.add(handover, tier_days), returned, n_attempts, 2 + n_attempts)
            recipient = NAMES[rng.randrange(len(NAMES))]
        else:
            roll = rng.random()
            recipient = ""
            if roll < 0.3:
                row = ("created", None, None, None, 0, 1)
            else:
                handover = min(end_day, self.today)
                accepted = max(created, handover * 1440 + 600)
                ev(
                    (
                        item_events.take_id(),
                        item_id,
                        actor,
                        accepted,
                        "item.accepted",
                        "created",
                        "accepted",
                        DETAILS_DEMO,
                    )
                )
                if roll < 0.65:
                    failed = accepted + 300
                    attempts.rows.append((attempts.take_id(), item_id, failed, "not_home", "", actor))
                    ev(
                        (
                            item_events.take_id(),
                            item_id,
                            actor,
                            failed,
                            "item.delivery_failed",
                            "accepted",
                            "delivery_failed",
                            '{"outcome": "not_home", "attempt": 1, "demo": true}',
                        )
                    )
                    row = ("delivery_failed", handover, cal.add(handover, tier_days), None, 1, 3)
                else:
                    ev(
                        (
                            item_events.take_id(),
                            item_id,
                            actor,
                            accepted + 60,
                            "item.out_for_delivery",
                            "accepted",
                            "out_for_delivery",
                            DETAILS_DEMO,
                        )
                    )
                    row = ("out_for_delivery", handover, cal.add(handover, tier_days), None, 0, 3)
        status_, handover_day, target, delivered, n, version = row
        items.rows.append(
            (
                item_id,
                self.item_code(office.id, False),
                dossier_id,
                "return",
                office.id,
                status_,
                tier,
                handover_day,
                target,
                18_000 if tier == "local" else 25_000,
                0,
                recipient,
                "",
                "",
                False,
                "",
                delivered is not None,
                delivered,
                n,
                version,
                actor,
                created,
                delivered or created,
            )
        )


def _accumulate(values):
    total = 0
    for value in values:
        total += value
        yield total


def _tables() -> dict[str, Table]:
    return {
        "dossier": Table(Dossier, DOSSIER_COLUMNS, DOSSIER_MOMENTS, DOSSIER_DAYS),
        "document": Table(DossierDocument, DOCUMENT_COLUMNS),
        "event": Table(DossierEvent, EVENT_COLUMNS, {"at"}),
        "supplement": Table(SupplementRequest, SUPPLEMENT_COLUMNS, {"requested_at", "completed_at"}),
        "extension": Table(
            Extension, EXTENSION_COLUMNS, {"issued_at"}, {"previous_due_date", "new_due_date"}
        ),
        "item": Table(
            PostalItem,
            ITEM_COLUMNS,
            {"delivered_at", "created_at", "updated_at"},
            {"handover_date", "target_date"},
        ),
        "item_event": Table(ItemEvent, ITEM_EVENT_COLUMNS, {"at"}),
        "attempt": Table(DeliveryAttempt, ATTEMPT_COLUMNS, {"at"}),
    }


@transaction.atomic
def generate(*, count: int, communes, seed: int = 2026, now: datetime | None = None, stdout=None) -> int:
    """Create ``count`` demo dossiers (and their children) in bulk; returns how many were made."""
    started = _time.monotonic()
    generator = Generator(communes=communes, seed=seed, now=now or timezone.now())
    if count <= 0 or not generator.procedures or not communes:
        return 0
    tables = _tables()
    writer = _Writer(generator.cal, tables)
    if writer.postgres:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Check foreign keys row by row as the rows arrive (parents are written first)
            # rather than queueing millions of deferred checks until the commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    prepared = _BulkLoad(list(tables.values()), count)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)  # let the COPY thread answer the socket promptly
    try:
        made = generator.run(count, tables, writer)
    finally:
        sys.setswitchinterval(switch)
        writer.close()
    loaded = _time.monotonic()
    prepared.restore()
    restored = _time.monotonic()
    _advance_sequences(generator, tables)
    # Every week of the history, in every commune written to: the next recount counts them.
    first = date.fromordinal(generator.today - DAYS_OF_HISTORY - 7)
    weeks = [first + timedelta(weeks=n) for n in range((generator.today - first.toordinal()) // 7 + 1)]
    mark_weeks((commune.pk, monday) for commune in communes for monday in weeks)
    if writer.postgres:
        with connection.cursor() as cursor:
            for table in tables.values():
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table.model._meta.db_table)}")
    if stdout is not None:
        counts = ", ".join(f"{name} {table.written}" for name, table in tables.items())
        stdout.write(
            f"Generated in {_time.monotonic() - started:.1f} s (rows {loaded - started:.1f} s, "
            f"indexes and constraints {restored - loaded:.1f} s, "
            f"analyze and sequences {_time.monotonic() - restored:.1f} s): {counts}."
        )
    return made


def _advance_sequences(generator: Generator, tables: dict[str, Table]) -> None:
    """Code sequences past the numbers used; PostgreSQL id sequences past the ids given."""
    sequences = [
        DossierCodeSequence(unit_id=unit_id, day=date.fromordinal(day), last_number=number)
        for (unit_id, day), number in generator.numbers.items()
    ]
    DossierCodeSequence.objects.bulk_create(
        sequences,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["unit", "day"],
        update_fields=["last_number"],
    )
    for office_id, number in generator.item_numbers.items():
        ItemCodeSequence.objects.update_or_create(post_office_id=office_id, defaults={"last_number": number})
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables.values():
                name = table.model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                    f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(name)}), 1))",
                    [name],
                )
