"""Running an import job: one pass over the file checks every row and hands the good ones to
a stage (per database), which checks the codes and writes the whole file in one transaction;
progress on the ImportJob row for the page that polls it; jobs whose worker died."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.uploads import ErrorReport
from dossiers.importing.checking import Catalogue, _owners, check_row, repeated_message, taken_message
from dossiers.importing.reading import BATCH_SIZE, ImportFileError, open_table
from dossiers.importing.writing import _write_batch
from dossiers.importing.writing_postgres import PostgresStage
from dossiers.models import ImportJob

logger = logging.getLogger(__name__)

# A running job whose worker has not reported for this long has died (killed, out of memory,
# machine restarted): it is marked failed and can be started again.
STALLED_AFTER = timedelta(minutes=15)


# --- running a job ---------------------------------------------------------------------------
#
# One pass over the file checks every row with ``check_row`` and hands the good rows to a
# stage; the stage then checks the codes against each other and the database (repeated in the
# file, owned by another unit), and writes everything in ONE transaction: a file is imported
# whole or not at all, whatever its size (docs/import-format.md). Two stages:
# - PostgreSQL: the rows are copied (COPY) into a temporary table as they are checked, the
#   checks on codes are two set-wise statements, and the dossiers, their events, the code
#   sequences and the week marks are written by a handful of statements, whatever the size;
# - portable (SQLite): the checked rows are spooled to a temporary file, the codes checked a
#   batch at a time, and the batches written by the ORM inside one transaction.


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def count_rows(path: Path) -> int:
    table = open_table(path)
    try:
        return sum(1 for _row in table.rows)
    finally:
        table.close()


def _progress(job: ImportJob, **fields) -> None:
    fields["heartbeat_at"] = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def run_import(job_id: int) -> ImportJob:
    """Run (or re-run) an import job to the end; safe to call twice for the same job.

    Never raises for a bad file or an unexpected error: the job ends rejected or failed, with a
    message for the page (the upload request and the worker call it alike).
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job
    now = timezone.now()
    _progress(
        job,
        status=ImportJob.Status.RUNNING,
        phase="checking",
        started_at=now,
        finished_at=None,
        processed_rows=0,
        total_rows=0,
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        error_count=0,
        errors=[],
        message="",
    )
    stage = PostgresStage(job) if connection.vendor == "postgresql" else PortableStage(job)
    try:
        report, ignored = _check_file(job, Path(job.file.path), now, stage)
        if report and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
            _progress(
                job,
                status=ImportJob.Status.REJECTED,
                phase="",
                error_count=report.count,
                errors=report.errors,
                message=_("%(count)d bad rows: nothing was imported.") % {"count": report.count},
                finished_at=timezone.now(),
            )
            return job
        _progress(job, phase="writing", error_count=report.count, errors=report.errors)
        created, updated, unchanged = stage.write(now)
        message = _("Columns ignored: %(columns)s.") % {"columns": ", ".join(ignored)} if ignored else ""
        _progress(
            job,
            status=ImportJob.Status.DONE,
            phase="",
            message=message,
            created_count=created,
            updated_count=updated,
            unchanged_count=unchanged,
            finished_at=timezone.now(),
        )
    except ImportFileError as exc:
        _progress(
            job,
            status=ImportJob.Status.REJECTED,
            phase="",
            message=str(exc),
            errors=[{"line": 0, "message": str(exc)}],
            error_count=1,
            finished_at=timezone.now(),
        )
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _progress(
            job,
            status=ImportJob.Status.FAILED,
            phase="",
            message=_("The import stopped because of an unexpected error; nothing was written."),
            finished_at=timezone.now(),
        )
    finally:
        stage.close()
    return job


def _check_file(job: ImportJob, path: Path, now: datetime, stage) -> tuple[ErrorReport, list[str]]:
    """The single pass over the file: each row checked, the good ones handed to the stage,
    the bad ones reported (the first MAX_REPORTED_ERRORS kept); then the stage's checks of the
    codes."""
    catalogue = Catalogue(job.created_by)
    report = ErrorReport()
    table = open_table(path)
    total = table.expected_rows
    processed = 0
    try:
        if total >= FORK_FROM_ROWS and hasattr(os, "fork"):
            batches = _checked_with_a_helper(path, table, catalogue, now, stage)
        else:
            batches = (_check_batch(rows, catalogue, now, stage) for rows in _batches(table.rows, BATCH_SIZE))
        for size, good, bad in batches:
            for line, message in bad:
                report.add(line, message)
            stage.add(good)
            processed += size
            total = max(total, processed)
            _progress(job, processed_rows=processed, total_rows=total)
    finally:
        table.close()
    if processed == 0:
        raise ImportFileError(_("The file has a header but no rows."))
    errors, count = stage.check()
    report.merge(errors, count)
    _progress(job, processed_rows=processed, total_rows=processed)
    return report, table.ignored


def _check_batch(batch: list, catalogue: Catalogue, now: datetime, stage) -> tuple[int, object, list]:
    """(rows in the batch, the good rows as the stage takes them, bad rows as (line, message)).

    The good rows, (line, fields) pairs, go through ``stage.prepare`` here, in whichever process
    checked them: for PostgreSQL that is their COPY data, so that the helper process (below)
    formats its share too and sends the parent a few hundred kilobytes instead of dicts."""
    good, bad = [], []
    for line, row in batch:
        try:
            good.append((line, check_row(row, catalogue, now=now)))
        except ValueError as exc:
            bad.append((line, str(exc)))
    return len(batch), stage.prepare(good, catalogue), bad


# A big file is checked by two processes: this one and a forked helper that reads the same file
# and checks (and prepares for the stage) CHILD_SHARE of every 4 batches, handing them back
# through a pipe. The helper is pure Python (the catalogue is read before the fork and any query
# from it is refused), so it checks on the second core while this one checks its own batches
# and sends every batch's rows to the stage. Smaller files are not worth a process.
FORK_FROM_ROWS = 4 * BATCH_SIZE
CHILD_SHARE = frozenset({1, 3})  # of the batch numbers modulo 4: half of them


def _checked_with_a_helper(path: Path, table, catalogue: Catalogue, now: datetime, stage):
    catalogue.prepare()
    # Everything loaded so far (Django, the catalogue) is left out of the garbage collector's
    # scans while both processes check (5 % of the checking) and stays shared with the helper
    # instead of being copied page by page as the collector touches it.
    gc.freeze()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns, never touches the parent's connections or files
        status = 1
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out, connection.execute_wrapper(_no_queries):
                own = open_table(path)
                try:
                    for number, rows in enumerate(_batches(own.rows, BATCH_SIZE)):
                        if number % 4 in CHILD_SHARE:
                            checked = _check_batch(rows, catalogue, now, stage)
                            pickle.dump(checked, out, pickle.HIGHEST_PROTOCOL)
                            # At once: the tail of a batch left in the buffer would keep the
                            # parent waiting until the next batch was checked, one process
                            # working at a time.
                            out.flush()
                except BaseException as exc:  # the parent raises it: the job fails, nothing written
                    pickle.dump(RuntimeError(f"checking helper: {exc!r}"), out, pickle.HIGHEST_PROTOCOL)
                    raise
                status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as results:
            for number, batch in enumerate(_batches(table.rows, BATCH_SIZE)):
                if number % 4 not in CHILD_SHARE:
                    yield _check_batch(batch, catalogue, now, stage)
                    continue
                checked = pickle.load(results)  # noqa: S301 - from our own forked process
                if isinstance(checked, BaseException):
                    raise checked
                yield checked
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # done already, or not needed any more
        os.waitpid(pid, 0)
        gc.unfreeze()


def _no_queries(execute, sql, params, many, context):
    raise RuntimeError("the checking helper reads no database: load what it needs in Catalogue.prepare()")


def fail_stalled_jobs(*, now: datetime | None = None) -> int:
    """Jobs left running by a worker that died (killed, out of memory, machine restarted):
    marked failed, so that the page says so and the file can be imported again. Nothing of
    theirs was written (a file is written in one transaction)."""
    now = now or timezone.now()
    stalled = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - STALLED_AFTER)
        | Q(heartbeat_at__isnull=True, started_at__lt=now - STALLED_AFTER)
    )
    return stalled.update(
        status=ImportJob.Status.FAILED,
        phase="",
        message=_("The import stopped (the background service was interrupted); nothing was written."),
        finished_at=now,
    )


def restart_job(*, job: ImportJob, by) -> ImportJob:
    """A failed job, back to waiting, to be run again from the stored file."""
    if job.status != ImportJob.Status.FAILED:
        raise ValueError("only a failed import is started again")
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.FAILED).update(
        status=ImportJob.Status.PENDING, phase="", message="", finished_at=None, heartbeat_at=None
    )
    logger.info("import job %s restarted by user %s", job.pk, getattr(by, "pk", None))
    job.refresh_from_db()
    return job


class PortableStage:
    """Any database: the checked rows of each batch go to a spool file, codes repeated in the
    file or owned by another unit are found batch by batch, and the batches are written by
    the ORM in one transaction."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.spool = Spool()
        self.seen: set[str] = set()
        self.report = ErrorReport()

    @staticmethod
    def prepare(good: list[tuple[int, dict]], catalogue: Catalogue) -> list[tuple[int, dict]]:
        return good

    def add(self, good: list[tuple[int, dict]]) -> None:
        owners = _owners([fields["code"] for _line, fields in good])
        kept = []
        for line, fields in good:
            code = fields["code"]
            if code in self.seen:
                self.report.add(line, repeated_message(code))
                continue
            self.seen.add(code)
            owner = owners.get(code)
            if owner is not None and owner != fields["receiving_unit_id"]:
                self.report.add(line, taken_message(code))
                continue
            kept.append(fields)
        self.spool.write(kept)

    def check(self) -> tuple[list[dict], int]:
        return self.report.errors, self.report.count

    @transaction.atomic
    def write(self, now: datetime) -> tuple[int, int, int]:
        totals = [0, 0, 0]
        for rows in self.spool.read():
            for n, count in enumerate(_write_batch(self.job, rows, now)):
                totals[n] += count
        return tuple(totals)

    def close(self) -> None:
        self.spool.close()


class Spool:
    """Checked rows between the check and the writing, in an anonymous temporary file."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.batches = 0

    def write(self, rows: list[dict]) -> None:
        pickle.dump(rows, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def read(self) -> Iterator[list[dict]]:
        self.file.seek(0)
        for _batch in range(self.batches):
            yield pickle.load(self.file)  # noqa: S301 - our own file, written just before

    def close(self) -> None:
        self.file.close()


def create_job(*, by, uploaded_file, mode: str) -> ImportJob:
    """Store an uploaded file as a pending job."""
    name = Path(uploaded_file.name or "import").name[:255]
    return ImportJob.objects.create(
        file=uploaded_file, original_name=name, size=uploaded_file.size or 0, mode=mode, created_by=by
    )


def create_job_from_path(*, by, path: str | Path, mode: str) -> ImportJob:
    from django.core.files import File

    path = Path(path)
    with path.open("rb") as handle:
        job = ImportJob(original_name=path.name[:255], size=path.stat().st_size, mode=mode, created_by=by)
        job.file.save(path.name, File(handle), save=False)
        job.save()
    return job
