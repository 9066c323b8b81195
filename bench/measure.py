"""In-process measurements against one benchmark database (DATABASE_URL), printed as JSON.

Run by bench/run.py; not part of the test suite. Server time is measured around the Django test
Client's request (the whole view, middleware and template), with CaptureQueriesContext for the
number of SQL queries; the weekly job is timed next to the bare grouped SQL over the same tables.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db import DatabaseError, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.loadgen import percentile  # noqa: E402
from dossiers.models import Dossier  # noqa: E402
from dossiers.search import fold  # noqa: E402
from reports.services import aggregation  # noqa: E402
from reports.weeks import week_bounds, weeks_ending  # noqa: E402


def timed_requests(client, url, n):
    times, queries = [], set()
    client.get(url)  # warm the caches of this process once
    for _ in range(n):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(captured.captured_queries))
    return {
        "url": url,
        "requests": n,
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "queries": sorted(queries),
    }


def list_figures(n):
    client = Client()
    client.force_login(User.objects.get(username="lanhdao"))  # the district leader: every commune
    filtered = "/dossiers/?status=10&q=Nguy%E1%BB%85n"
    first = timed_requests(client, filtered, n)
    # A deep page: the keyset cursor of a dossier a year back, as "next page" links carry it.
    matching = Dossier.objects.filter(status=10, applicant_name_folded__contains="nguyen")
    matching = matching.order_by("-received_at", "-id")
    depth = min(5000, matching.count() // 2)  # 5,000 rows down, or half-way on a small database
    deep_row = matching.values_list("received_at", "id")[depth : depth + 1]
    deep = None
    if deep_row:
        moment, pk = deep_row[0]
        deep = timed_requests(client, f"{filtered}&after={quote(f'{moment.isoformat()}~{pk}')}", n)
    plain = timed_requests(client, "/dossiers/", n)
    # Names as typed on a keyboard without Vietnamese input: a family name (common) and a full
    # name (selective), both diacritic-free (dossiers.search folds the stored names).
    family = timed_requests(client, "/dossiers/?q=nguyen", n)
    full_name = Dossier.objects.order_by("-id").values_list("applicant_name", flat=True).first() or ""
    typed = quote(fold(full_name))
    whole = timed_requests(client, f"/dossiers/?q={typed}", n)
    return {
        "first_page": first,
        "deep_page": deep,
        "deep_rows": depth,
        "unfiltered": plain,
        "plain_family_name": family,
        "plain_full_name": whole,
        "sorted_by_due": timed_requests(client, "/dossiers/?sort=due", n),
    }


def dashboard_figures(n):
    client = Client()
    client.force_login(User.objects.get(username="lanhdao"))
    return timed_requests(client, "/reports/", n)


# The bare SQL of one week: what the job's queries would be without the job around them
# (locks, transaction, rewriting the week's rows). Same counts as the job, incl. items delivered
# on target (the local delivery day against the target date).
BARE_SQL = """
SELECT receiving_unit_id, count(*),
       count(*) FILTER (WHERE intake_channel = 3), count(*) FILTER (WHERE intake_channel = 2),
       count(*) FILTER (WHERE return_channel <> 'bcci' AND decline_reason <> '')
FROM dossiers_dossier WHERE received_at >= %(start)s AND received_at < %(end)s GROUP BY 1;
SELECT receiving_unit_id, count(*), count(*) FILTER (WHERE return_channel = 'bcci')
FROM dossiers_dossier WHERE returned_at >= %(start)s AND returned_at < %(end)s GROUP BY 1;
SELECT receiving_unit_id, count(*), count(*) FILTER (WHERE timeliness = 'late')
FROM dossiers_dossier WHERE finished_at >= %(start)s AND finished_at < %(end)s AND status <> 7 GROUP BY 1;
SELECT receiving_unit_id, count(*) FROM dossiers_dossier
WHERE received_at < %(end)s AND due_date < %(end_day)s AND status <> 7
  AND (finished_at IS NULL OR finished_at >= %(end)s)
  AND (returned_at IS NULL OR returned_at >= %(end)s) GROUP BY 1;
SELECT d.receiving_unit_id, count(*),
       count(*) FILTER (WHERE (i.delivered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= i.target_date)
FROM postal_postalitem i JOIN dossiers_dossier d ON d.id = i.dossier_id
WHERE i.direction = 'return' AND i.delivered_at >= %(start)s AND i.delivered_at < %(end)s GROUP BY 1;
SELECT d.receiving_unit_id, count(DISTINCT e.item_id) FROM postal_itemevent e
JOIN postal_postalitem i ON i.id = e.item_id JOIN dossiers_dossier d ON d.id = i.dossier_id
WHERE e.to_status = 'returned_to_sender' AND i.direction = 'return'
  AND e.at >= %(start)s AND e.at < %(end)s GROUP BY 1
"""

# The bare SQL of many weeks: one grouped statement per measure over the whole span, the week
# of each row given by date_bin from the first Monday 00:00 (Asia/Ho_Chi_Minh has no daylight
# saving: local weeks are exactly 7 × 24 h apart). "Open and overdue at the end of the week" is
# counted per (unit, first week, week after the last) and spread over its weeks by
# generate_series, in the same statement. This is the honest limit of the database for the
# job's figures, not a loop of one-week statements.
SPAN_SQL = """
SELECT receiving_unit_id, date_bin('7 days', received_at, %(start)s), count(*),
       count(*) FILTER (WHERE intake_channel = 3), count(*) FILTER (WHERE intake_channel = 2),
       count(*) FILTER (WHERE return_channel <> 'bcci' AND decline_reason <> '')
FROM dossiers_dossier WHERE received_at >= %(start)s AND received_at < %(end)s GROUP BY 1, 2;
SELECT receiving_unit_id, date_bin('7 days', returned_at, %(start)s), count(*),
       count(*) FILTER (WHERE return_channel = 'bcci')
FROM dossiers_dossier WHERE returned_at >= %(start)s AND returned_at < %(end)s GROUP BY 1, 2;
SELECT receiving_unit_id, date_bin('7 days', finished_at, %(start)s), count(*),
       count(*) FILTER (WHERE timeliness = 'late')
FROM dossiers_dossier WHERE finished_at >= %(start)s AND finished_at < %(end)s AND status <> 7
GROUP BY 1, 2;
SELECT unit, week, sum(n) FROM (
  SELECT receiving_unit_id AS unit,
         greatest(date_bin('7 days', received_at, %(start)s),
                  date_bin('7 days', due_date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh', %(start)s),
                  %(start)s) AS first,
         least(date_bin('7 days', finished_at, %(start)s), date_bin('7 days', returned_at, %(start)s),
               %(end)s) AS after_last,
         count(*) AS n
  FROM dossiers_dossier
  WHERE received_at < %(end)s AND due_date < %(end_day)s AND status <> 7
    AND (finished_at IS NULL OR finished_at >= %(first_end)s)
    AND (returned_at IS NULL OR returned_at >= %(first_end)s)
  GROUP BY 1, 2, 3
) ranges, generate_series(first, after_last - interval '7 days', interval '7 days') AS week
GROUP BY 1, 2;
SELECT d.receiving_unit_id, date_bin('7 days', i.delivered_at, %(start)s), count(*),
       count(*) FILTER (WHERE (i.delivered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= i.target_date)
FROM postal_postalitem i JOIN dossiers_dossier d ON d.id = i.dossier_id
WHERE i.direction = 'return' AND i.delivered_at >= %(start)s AND i.delivered_at < %(end)s GROUP BY 1, 2;
SELECT d.receiving_unit_id, date_bin('7 days', e.at, %(start)s), count(DISTINCT e.item_id)
FROM postal_itemevent e JOIN postal_postalitem i ON i.id = e.item_id
JOIN dossiers_dossier d ON d.id = i.dossier_id
WHERE e.to_status = 'returned_to_sender' AND i.direction = 'return'
  AND e.at >= %(start)s AND e.at < %(end)s GROUP BY 1, 2
"""


def _run(sql: str, params: dict) -> None:
    with connection.cursor() as cursor:
        for statement in sql.split(";"):
            cursor.execute(statement, params)
            cursor.fetchall()


def bare_sql(monday):
    start, end = week_bounds(monday)
    params = {"start": start, "end": end, "end_day": (end - timedelta(seconds=1)).date() + timedelta(days=1)}
    _run(BARE_SQL, params)


def bare_span_sql(mondays):
    """The weeks ``mondays`` (consecutive) in one grouped statement per measure."""
    start, first_end = week_bounds(mondays[0])
    end = week_bounds(mondays[-1])[1]
    params = {"start": start, "end": end, "first_end": first_end, "end_day": mondays[-1] + timedelta(days=7)}
    _run(SPAN_SQL, params)


def paired(job, bare, repeat=3):
    """Best of ``repeat`` for the job and for its bare SQL, run in turns so that both meet the
    same caches and the same load."""
    times = {"job": [], "bare": []}
    for _ in range(repeat):
        for name, fn in (("job", job), ("bare", bare)):
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return round(min(times["job"]) * 1000, 1), round(min(times["bare"]) * 1000, 1)


def weekly_figures(weeks_long=52):
    last = aggregation.previous_monday()
    one = weeks_ending(last, 1)
    many = weeks_ending(last, weeks_long)
    aggregation.compute_weeks(mondays=many)  # warm: the same pages in memory for both
    load = os.getloadavg()
    one_job, one_bare = paired(lambda: aggregation.compute_weeks(mondays=one), lambda: bare_sql(one[0]), 5)
    many_job, many_bare = paired(lambda: aggregation.compute_weeks(mondays=many), lambda: bare_span_sql(many))
    return {
        "one_week_job_ms": one_job,
        "one_week_bare_sql_ms": one_bare,
        "weeks": weeks_long,
        "many_weeks_job_ms": many_job,
        "many_weeks_bare_sql_ms": many_bare,
        "many_weeks_bare_sql": "one grouped statement per measure over the span",
        "load_average_before": load,
    }


def _vacuum():
    """Clear the dead rows an earlier import and its clean-up left in the tables it writes, and
    write out what they dirtied (CHECKPOINT): an import and its clean-up write over a gigabyte
    of WAL, so without it the checkpoint they call for lands in the next timed run or not,
    and the same import measured 9.5 s or 11.3 s on a quiet machine."""
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM (ANALYZE) dossiers_dossier, dossiers_dossierevent, dossiers_dossiercodesequence"
        )
        try:
            with transaction.atomic():
                cursor.execute("CHECKPOINT")
        except DatabaseError:  # a role without pg_checkpoint: the run goes on
            pass


# The rows of the import file: bench/make_import_csv.py numbers codes from 7001.
IMPORTED_IDS = "SELECT id FROM dossiers_dossier WHERE code ~ '-7[0-9]{3}$|-[89][0-9]{3}$'"


def _copy_out(cursor, sql: str) -> bytes:
    with cursor.copy(sql) as copy:
        return b"".join(bytes(chunk) for chunk in copy)


def _timed_copy_in(statements: list[tuple[str, bytes]], *, immediate: bool) -> float:
    """Seconds to COPY the data in, in a transaction that is rolled back (with ``immediate``,
    the foreign keys are checked before the end, as a commit would)."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            started = time.perf_counter()
            for sql, data in statements:
                with cursor.copy(sql) as copy:
                    copy.write(data)
            if immediate:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            return time.perf_counter() - started
        finally:
            cursor.execute("ROLLBACK")


def _stored_columns(cursor, table: str) -> str:
    """The table's columns but the generated ones (the database computes those; COPY refuses them)."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position",
        [table],
    )
    return ", ".join(f'"{name}"' for (name,) in cursor.fetchall())


def import_figures(rows):
    """The import of a CSV file of ``rows`` new dossiers by ``manage.py import_dossiers`` (a
    subprocess: start-up, reading, checking, writing), next to two bare counterparts timed in
    this process: COPY of the same file into a table of text columns without indexes (what
    PostgreSQL's own loader needs to read the file), and COPY of exactly the rows the import
    wrote (the dossiers and their events, taken from the database after the import) into the
    real tables, with their indexes, constraints and foreign keys (what storing them costs at
    least), rolled back."""
    from bench.make_import_csv import write_csv

    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / f"import_{rows}.csv", rows)
        _vacuum()  # the same starting state on every run, whatever earlier runs left behind
        before = Dossier.objects.count()
        load = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "import_dossiers", str(path)],
            capture_output=True,
            text=True,
            env=os.environ,
            check=False,
        )
        seconds = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        created = Dossier.objects.count() - before
        with connection.cursor() as cursor:
            written = [
                (
                    f"COPY {table} ({_stored_columns(cursor, table)}) FROM STDIN",
                    _copy_out(
                        cursor,
                        f"COPY (SELECT {_stored_columns(cursor, table)} FROM {table} "  # noqa: S608
                        f"WHERE {where}) TO STDOUT",
                    ),
                )
                for table, where in (
                    ("dossiers_dossier", f"id IN ({IMPORTED_IDS})"),
                    ("dossiers_dossierevent", f"dossier_id IN ({IMPORTED_IDS})"),
                )
            ]
            # Leave the benchmark database as it was.
            cursor.execute(f"DELETE FROM dossiers_dossierevent WHERE dossier_id IN ({IMPORTED_IDS})")  # noqa: S608
            cursor.execute(f"DELETE FROM dossiers_dossier WHERE id IN ({IMPORTED_IDS})")  # noqa: S608
        _vacuum()
        columns = ", ".join(f"c{n} text" for n in range(16))
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE bench_file ({columns})")
        file_copy = _timed_copy_in(
            [("COPY bench_file FROM STDIN (FORMAT csv, HEADER true)", path.read_bytes())], immediate=False
        )
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_file")
        rows_copy = _timed_copy_in(written, immediate=True)
        _vacuum()
    return {
        "rows": rows,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "created": created,
        "load_average_before": load,
        "bare_copy_file_seconds": round(file_copy, 2),
        "bare_copy_rows_seconds": round(rows_copy, 2),
        "output": (done.stdout or done.stderr).strip()[-300:],
    }


def _captured(fn) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"] for q in captured.captured_queries]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def explain_hot() -> dict[str, dict[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the hot queries, as the views and the job send them."""
    client = Client()
    client.force_login(User.objects.get(username="lanhdao"))

    def page_query(url: str) -> str:
        statements = _captured(lambda: client.get(url))
        return next(sql for sql in statements if 'FROM "dossiers_dossier"' in sql and "LIMIT 51" in sql)

    # A full name as citizens give it: selective, unlike the family name of the list benchmark.
    full_name = Dossier.objects.filter(status=10).order_by("-id").values_list("applicant_name", flat=True)[:1]
    queries = {
        "list: status filter + family name, first page": page_query("/dossiers/?status=10&q=Nguy%E1%BB%85n"),
        "list: no filter, first page": page_query("/dossiers/"),
        "list: overdue, first page": page_query("/dossiers/?flag=overdue"),
    }
    if full_name:
        queries["list: a full name"] = page_query(f"/dossiers/?q={quote(full_name[0])}")
        plain = quote(fold(full_name[0]))
        queries["list: a full name without diacritics"] = page_query(f"/dossiers/?q={plain}")
    queries["list: a family name without diacritics"] = page_query("/dossiers/?q=nguyen")
    dashboard = _captured(lambda: client.get("/reports/"))
    late = [sql for sql in dashboard if 'FROM "dossiers_dossier"' in sql]
    if late:
        queries["dashboard: late dossiers"] = late[0]
    monday = aggregation.previous_monday()
    weekly = _captured(lambda: aggregation.span_counts(aggregation.Span([monday])))
    for n, sql in enumerate((sql for sql in weekly if sql.lstrip().upper().startswith("SELECT")), start=1):
        queries[f"weekly job, one week: query {n}"] = sql
    return {name: {"sql": sql, "plan": _plan(sql)} for name, sql in queries.items()}


PARTS = ("list", "dashboard", "weekly", "explain", "import")


def main():
    n = int(os.environ.get("BENCH_REQUESTS", "200"))
    import_rows = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    parts = os.environ.get("BENCH_PARTS", ",".join(PARTS)).split(",")
    result = {"dossiers": Dossier.objects.count()}
    if "list" in parts:
        result["list"] = list_figures(n)
    if "dashboard" in parts:
        result["dashboard"] = dashboard_figures(n)
    if "weekly" in parts:
        result["weekly"] = weekly_figures()
    if "explain" in parts:
        result["explain"] = explain_hot()
    if "import" in parts and import_rows:
        result["import"] = import_figures(import_rows)
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
