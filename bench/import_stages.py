"""Where an import's time goes: the work of ``manage.py import_dossiers`` timed stage by stage in
this process, against one benchmark database (DATABASE_URL, PostgreSQL).

Writes a file of BENCH_IMPORT_ROWS new rows (bench/make_import_csv.py, 100,000 by default),
imports it with timers around the stages and every statement over 50 ms, and prints per stage
the wall-clock time and the CPU time of this process, of the forked checking helper and of the
PostgreSQL backend (from /proc), with the load average before. The rows it wrote are removed
again and the tables vacuumed, as ``bench/measure.py`` does. Python's and Django's start-up
(about half a second, in the end-to-end figure of ``bench/measure.py``) is not in it.

    DATABASE_URL=postgres://…/postdesk_scale_1m DEBUG=false .venv/bin/python bench/import_stages.py
"""

from __future__ import annotations

import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.backends.postgresql.base import DatabaseWrapper  # noqa: E402

from bench.make_import_csv import write_csv  # noqa: E402
from bench.measure import IMPORTED_IDS, _vacuum  # noqa: E402
from dossiers import importing  # noqa: E402
from dossiers.importing import writing_postgres  # noqa: E402
from dossiers.models import ImportJob  # noqa: E402

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))


def backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/import_stages.py measures PostgreSQL: set DATABASE_URL")
    marks: list[tuple[str, float, float, float, float]] = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def mark(name: str) -> None:
        helper = resource.getrusage(resource.RUSAGE_CHILDREN)
        helper_cpu = helper.ru_utime + helper.ru_stime
        marks.append((name, time.perf_counter(), time.process_time(), helper_cpu, backend_cpu(backend)))

    statements: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if (spent := time.perf_counter() - started) > 0.05:
                statements.append((spent, " ".join(sql.split())[:90]))

    # Stage boundaries: the end of the checking (the stage's code checks start), the end of
    # those checks, and the commit of the writing transaction.
    stage = writing_postgres.PostgresStage
    check, commit = stage.check, DatabaseWrapper._commit

    def timed_check(self):
        mark("read, check, COPY to staging")
        result = check(self)
        mark("checks of the codes")
        return result

    def timed_commit(self):
        started = time.perf_counter()
        commit(self)
        if (spent := time.perf_counter() - started) > 0.05:
            statements.append((spent, "COMMIT (the deferred foreign keys are checked)"))

    stage.check, DatabaseWrapper._commit = timed_check, timed_commit
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / f"import_{ROWS}.csv", ROWS)
        _vacuum()
        try:
            with connection.execute_wrapper(timed):
                mark("start")
                job = importing.create_job_from_path(by=None, path=path, mode=ImportJob.Mode.ALL_OR_NOTHING)
                job = importing.run_import(job.pk)
                mark("insert, weeks, commit")
        finally:
            stage.check, DatabaseWrapper._commit = check, commit
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM dossiers_dossierevent WHERE dossier_id IN ({IMPORTED_IDS})")  # noqa: S608
                cursor.execute(f"DELETE FROM dossiers_dossier WHERE id IN ({IMPORTED_IDS})")  # noqa: S608
            _vacuum()
    print(f"{ROWS} rows: {job.get_status_display()}, {job.created_count} created; load before {load}")
    print(f"{'stage':32} {'wall':>6} {'this':>6} {'helper':>6} {'pg':>6}   (seconds; CPU of each process)")
    for before, after in itertools.pairwise(marks):
        spent = [after[n] - before[n] for n in range(1, 5)]
        print(f"{after[0]:32} " + " ".join(f"{value:6.2f}" for value in spent))
    total = [marks[-1][n] - marks[0][n] for n in range(1, 5)]
    print(f"{'total':32} " + " ".join(f"{value:6.2f}" for value in total))
    print("statements over 50 ms:")
    for spent, sql in statements:
        print(f"  {spent:6.2f} s  {sql}")


if __name__ == "__main__":
    main()
