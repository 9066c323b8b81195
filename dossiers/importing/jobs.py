"""Running an import job: count, check every row (first pass), then write the good rows in
batches (second pass), storing progress on the ImportJob row for the page that polls it."""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.importing.checking import Catalogue, check_row
from dossiers.importing.reading import BATCH_SIZE, ImportFileError, open_table
from dossiers.importing.writing import _write_batch
from dossiers.importing.writing_postgres import _PostgresBatchWriter
from dossiers.models import (
    Dossier,
    ImportJob,
)

logger = logging.getLogger(__name__)

# --- running a job ---------------------------------------------------------------------------


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


class _Checker:
    """Checks rows in file order, including codes repeated in the file and codes owned by
    another unit."""

    def __init__(self, user, now):
        self.catalogue = Catalogue(user)
        self.now = now
        self.seen: set[str] = set()

    def check_batch(self, batch: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], list[dict]]:
        good, bad = [], []
        checked = []
        for line, row in batch:
            try:
                checked.append((line, check_row(row, self.catalogue, now=self.now)))
            except ValueError as exc:
                bad.append({"line": line, "message": str(exc)})
        owners = _owners([fields["code"] for _line, fields in checked])
        for line, fields in checked:
            code = fields["code"]
            if code in self.seen:
                bad.append(
                    {
                        "line": line,
                        "message": _("ma_ho_so %(code)s appears twice in the file.") % {"code": code},
                    }
                )
                continue
            self.seen.add(code)
            owner = owners.get(code)
            if owner is not None and owner != fields["receiving_unit_id"]:
                bad.append(
                    {
                        "line": line,
                        "message": _("ma_ho_so %(code)s already belongs to a dossier of another unit.")
                        % {"code": code},
                    }
                )
                continue
            good.append((line, fields))
        bad.sort(key=lambda error: error["line"])
        return good, bad


def _owners(codes: list[str]) -> dict[str, int]:
    """The receiving unit of each code that already belongs to a dossier."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of thousands (quoted one by one).
        table = connection.ops.quote_name(Dossier._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, receiving_unit_id FROM {table} WHERE code = ANY(%s)", [codes])  # noqa: S608
            return dict(cursor.fetchall())
    return dict(Dossier.objects.filter(code__in=codes).values_list("code", "receiving_unit_id"))


def _progress(job: ImportJob, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def run_import(job_id: int) -> ImportJob:
    """Run (or re-run) an import job to the end; safe to call twice for the same job."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished:
        return job
    now = timezone.now()
    _progress(
        job,
        status=ImportJob.Status.RUNNING,
        phase="counting",
        started_at=now,
        processed_rows=0,
        total_rows=0,
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        error_count=0,
        errors=[],
        message="",
    )
    path = Path(job.file.path)
    try:
        total = count_rows(path)
        if total == 0:
            raise ImportFileError(_("The file has a header but no rows."))
        _progress(job, total_rows=total, phase="checking")
        errors, bad_lines, ignored, spool = _check_file(job, path, now)
        error_count = len(errors)
        stored = errors[: ImportJob.MAX_REPORTED_ERRORS]
        if errors and job.mode == ImportJob.Mode.ALL_OR_NOTHING:
            spool.close()
            _progress(
                job,
                status=ImportJob.Status.REJECTED,
                phase="",
                error_count=error_count,
                errors=stored,
                message=_("%(count)d bad rows: nothing was imported.") % {"count": error_count},
                finished_at=timezone.now(),
            )
            return job
        _progress(job, phase="writing", processed_rows=0, error_count=error_count, errors=stored)
        try:
            _write_file(job, spool, now, bad_lines)
        finally:
            spool.close()
        message = _("Columns ignored: %(columns)s.") % {"columns": ", ".join(ignored)} if ignored else ""
        _progress(job, status=ImportJob.Status.DONE, phase="", message=message, finished_at=timezone.now())
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
            message=_("The import stopped because of an unexpected error; nothing more was written."),
            finished_at=timezone.now(),
        )
        raise
    return job


def _check_file(job: ImportJob, path: Path, now: datetime) -> tuple[list[dict], set[int], list[str], Spool]:
    """First pass: check every row. The checked fields of the good rows go to a temporary spool
    file (pickled batches), so the writing pass neither re-reads nor re-checks the file and the
    memory stays that of one batch."""
    checker = _Checker(job.created_by, now)
    errors: list[dict] = []
    bad_lines: set[int] = set()
    table = open_table(path)
    spool = Spool()
    processed = 0
    try:
        for batch in _batches(table.rows, BATCH_SIZE):
            good, bad = checker.check_batch(batch)
            spool.write(good)
            errors.extend(bad)
            bad_lines.update(error["line"] for error in bad)
            processed += len(batch)
            _progress(job, processed_rows=min(processed, job.total_rows))
    except BaseException:
        spool.close()
        raise
    finally:
        table.close()
    return errors, bad_lines, table.ignored, spool


class Spool:
    """Checked rows between the two passes, in an anonymous temporary file."""

    def __init__(self):
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.batches = 0

    def write(self, good: list[tuple[int, dict]]) -> None:
        pickle.dump(good, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.batches += 1

    def read(self) -> Iterator[list[tuple[int, dict]]]:
        self.file.seek(0)
        for _batch in range(self.batches):
            yield pickle.load(self.file)  # noqa: S301 - our own file, written just before

    def close(self) -> None:
        self.file.close()


def _write_file(job: ImportJob, spool: Spool, now: datetime, bad_lines: set[int]) -> None:
    write_batch = _PostgresBatchWriter(job, now) if connection.vendor == "postgresql" else None
    processed = 0
    for good in spool.read():
        rows = [fields for line, fields in good if line not in bad_lines]
        if write_batch is None:
            created, updated, unchanged = _write_batch(job, rows, now)
        else:
            created, updated, unchanged = write_batch(rows)
        processed += len(good)
        _progress(
            job,
            processed_rows=min(processed, job.total_rows),
            created_count=job.created_count + created,
            updated_count=job.updated_count + updated,
            unchanged_count=job.unchanged_count + unchanged,
        )


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
