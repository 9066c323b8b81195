"""Import of dossiers exported by a provincial one-stop system (CSV or XLSX).

The format is documented in docs/import-format.md. The file is streamed twice (``csv`` module,
openpyxl ``read_only``), so 100,000 rows need little memory:

1. every row is checked; nothing is written. With ``mode=all`` a single bad row rejects the
   file and the job lists each bad row with its line number and reason;
2. valid rows are written in batches of ``BATCH_SIZE``, each batch one transaction:
   new codes are created, known codes are updated (upsert by code), unchanged rows are skipped,
   so importing the same file again creates nothing.

Progress is stored on the ImportJob row after each batch, for the page that polls it.
Imported rows mirror the provincial system's state: they do not go through the workflow
transitions, but every created or changed dossier gets a ``dossier.imported`` /
``dossier.import_updated`` event.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import pickle
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import compress, islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import scoping
from communes.models import AdministrativeUnit
from communes.weekmarks import DOSSIER_FIELDS, dossier_state, mark_dossiers
from dossiers import workdays
from dossiers.codes import parse_code
from dossiers.models import (
    DeclineReason,
    Dossier,
    DossierCodeSequence,
    DossierEvent,
    ImportJob,
    IntakeChannel,
    Procedure,
    ReturnChannel,
    Status,
)
from dossiers.services import DECLINE_REASONS, new_tracking_pin, validate_intake

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
MAX_FILE_BYTES = 100 * 1024 * 1024
SNIFF_BYTES = 64 * 1024
# Files up to this size are imported during the upload request; larger ones by a worker.
INLINE_IMPORT_BYTES = 256 * 1024

REQUIRED = [
    "ma_ho_so",
    "ma_thu_tuc",
    "ma_don_vi",
    "ho_ten_nguoi_nop",
    "kenh_tiep_nhan",
    "hinh_thuc_tra_ket_qua",
    "trang_thai",
    "ngay_tiep_nhan",
]
OPTIONAL = [
    "so_dien_thoai",
    "dia_chi",
    "so_dinh_danh",
    "ly_do_khong_nhan_qua_bcci",
    "ghi_chu_ly_do",
    "ngay_hen_tra",
    "ngay_ket_thuc_xu_ly",
    "ngay_tra_ket_qua",
]
COLUMNS = REQUIRED + OPTIONAL

RETURN_CHANNELS = {
    "desk": ReturnChannel.DESK,
    "tai_quay": ReturnChannel.DESK,
    "truc_tiep": ReturnChannel.DESK,
    "1": ReturnChannel.DESK,
    "online": ReturnChannel.ONLINE,
    "truc_tuyen": ReturnChannel.ONLINE,
    "2": ReturnChannel.ONLINE,
    "bcci": ReturnChannel.BCCI,
    "buu_chinh": ReturnChannel.BCCI,
    "3": ReturnChannel.BCCI,
}
DATETIME_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
]
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]

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


class ImportFileError(Exception):
    """The file as a whole cannot be read: nothing is imported."""


# --- reading ---------------------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    ignored: list[str]
    rows: Iterator[tuple[int, dict]]
    close: callable


def _normalise_header(value) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def _check_header(header: list[str]) -> list[str]:
    missing = [name for name in REQUIRED if name not in header]
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if missing or duplicated:
        parts = []
        if missing:
            parts.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
        if duplicated:
            parts.append(_("repeated columns: %(columns)s") % {"columns": ", ".join(duplicated)})
        raise ImportFileError(
            _("The file does not have the expected columns (%(problems)s). See the import format.")
            % {"problems": "; ".join(parts)}
        )
    return [name for name in header if name and name not in COLUMNS]


def open_table(path: str | Path) -> Table:
    """Open a CSV (UTF-8, comma or semicolon) or XLSX file; ImportFileError when it is neither."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    if size > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": MAX_FILE_BYTES // 2**20}
        )
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    return _open_csv(path, head)


def _looks_like_utf16(head: bytes) -> bool:
    """Text saved as "Unicode" by spreadsheet programs: NUL bytes in every other position."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return True
    sample = head[:4096]
    return sample[1::2].count(0) > 0.4 * len(sample) / 2 or sample[0::2].count(0) > 0.4 * len(sample) / 2


def _open_csv(path: Path, head: bytes) -> Table:
    if b"\x00" in head:
        if _looks_like_utf16(head):
            raise ImportFileError(
                _("The file is not encoded in UTF-8. Save it again as “CSV UTF-8” and upload it again.")
            )
        raise ImportFileError(_("The file is neither a CSV text file nor an Excel (XLSX) workbook."))
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    try:
        text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not encoded in UTF-8. Save it again as “CSV UTF-8” and upload it again.")
        ) from None
    first_line = text.splitlines()[0] if text else ""
    if len(first_line) >= len(text) and len(head) >= SNIFF_BYTES:
        raise ImportFileError(_("The first line of the file is not a header of column names."))
    delimiter = max([",", ";", "\t"], key=first_line.count)
    handle = path.open("r", encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = [_normalise_header(cell) for cell in next(reader)]
    except (StopIteration, csv.Error, UnicodeDecodeError):
        handle.close()
        raise ImportFileError(_("The first line of the file is not a header of column names.")) from None
    try:
        ignored = _check_header(header)
    except ImportFileError:
        handle.close()
        raise

    def rows():
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    continue
                yield reader.line_num, dict(zip(header, cells, strict=False))
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file is not encoded in UTF-8 (after line %(line)d). Save it again as “CSV UTF-8”.")
                % {"line": reader.line_num}
            ) from None
        except csv.Error as exc:
            raise ImportFileError(
                _("Line %(line)d cannot be read as CSV (%(error)s).")
                % {"line": reader.line_num, "error": exc}
            ) from None

    return Table(header=header, ignored=ignored, rows=rows(), close=handle.close)


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        iterator = sheet.iter_rows(values_only=True)
        header = [_normalise_header(cell) for cell in next(iterator, ())]
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        logger.info("unreadable workbook: %s", type(exc).__name__)
        raise ImportFileError(
            _("The Excel file cannot be read; it may be damaged or not an XLSX workbook.")
        ) from None
    try:
        ignored = _check_header(header)
    except ImportFileError:
        workbook.close()
        raise

    def rows():
        for number, cells in enumerate(iterator, start=2):
            if not any(cell not in (None, "") for cell in cells):
                continue
            yield number, dict(zip(header, cells, strict=False))

    return Table(header=header, ignored=ignored, rows=rows(), close=workbook.close)


# --- checking one row ------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# The common shapes, read without strptime (which costs ~10 µs a try, and most tries fail):
# dd/mm/yyyy[ hh:mm[:ss]] and yyyy-mm-dd[(T| )hh:mm[:ss]]. Anything else goes the slow way.
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?")


def _quick_moment(text: str) -> datetime | None:
    match = _DMY.fullmatch(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
    else:
        match = _YMD.fullmatch(text)
        if not match:
            return None
        year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None


def _choice(choices: dict, value):
    """The choice whose integer code the cell holds, or None."""
    try:
        return choices.get(int(_text(value)))
    except ValueError:
        return None


def _parse_moment(value, column: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.min)
    else:
        text = _text(value)
        moment = _quick_moment(text)
        for fmt in DATETIME_FORMATS + DATE_FORMATS if moment is None else ():
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError(
                _("%(column)s “%(value)s” is not a date as dd/mm/yyyy or dd/mm/yyyy hh:mm.")
                % {"column": column, "value": text[:40]}
            )
    if not 2000 <= moment.year <= 2999:
        # Year 0001 would overflow when converted to UTC; no one-stop dossier is that old.
        raise ValueError(
            _("%(column)s “%(value)s” is not a plausible date (years 2000 to 2999).")
            % {"column": column, "value": _text(value)[:40]}
        )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=workdays.TZ)
    return moment


def _parse_day(value, column: str) -> date | None:
    moment = _parse_moment(value, column)
    return moment.astimezone(workdays.TZ).date() if moment else None


def _phone(value) -> str:
    if isinstance(value, (int, float)):  # Excel dropped the leading 0
        return "0" + _text(value) if len(_text(value)) == 9 else _text(value)
    return _text(value)


def _id_number(value) -> str:
    if isinstance(value, (int, float)):  # Excel dropped the leading zeros
        return _text(value).zfill(12)
    return _text(value)


class Catalogue:
    """What rows refer to, loaded once per import."""

    def __init__(self, user):
        self.procedures = {p.national_code: p for p in Procedure.objects.all()}
        communes = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.COMMUNE)
        if user is not None:
            communes = scoping.filter_by_unit(communes, user, field="id")
        self.units: dict[str, AdministrativeUnit] = {}
        for unit in communes.only("id", "code", "identifier", "name", "level"):
            self.units[unit.code] = unit
            if unit.identifier:
                self.units[unit.identifier] = unit
        self.unit_ids = {unit.pk for unit in self.units.values()}
        # The calendar as it stands when the import starts, and the due dates computed with it:
        # a due date depends only on the local day, whether the receipt came by the cut-off
        # time and the processing time, and a file holds a few thousand such triples at most.
        self.overrides = workdays.local_overrides()
        self._due_dates: dict[tuple[date, bool, int], date] = {}

    def due_date(self, received_at: datetime, processing_days: int) -> date:
        """workdays.due_date, remembered for the import."""
        local = received_at.astimezone(workdays.TZ)
        key = (local.date(), local.time() <= workdays.CUTOFF, processing_days)
        due = self._due_dates.get(key)
        if due is None:
            due = workdays.due_date(received_at, processing_days, overrides=self.overrides)
            self._due_dates[key] = due
        return due


def check_row(row: dict, catalogue: Catalogue, *, now: datetime) -> dict:
    """The dossier fields of one row, or ValueError with every problem of the row."""
    problems: list[str] = []
    code = _text(row.get("ma_ho_so"))
    try:
        parse_code(code)
    except ValueError:
        problems.append(
            _("ma_ho_so “%(value)s” is not a dossier code like 000.00.00.H00-YYMMDD-0001.")
            % {"value": code[:50]}
        )
    procedure_code = _text(row.get("ma_thu_tuc"))
    procedure = catalogue.procedures.get(procedure_code)
    if procedure is None:
        problems.append(_("ma_thu_tuc “%(value)s” is not in the catalogue.") % {"value": procedure_code[:40]})
    unit_code = _text(row.get("ma_don_vi"))
    unit = catalogue.units.get(unit_code)
    if unit is None:
        problems.append(
            _("ma_don_vi “%(value)s” is not a commune you may import for.") % {"value": unit_code[:40]}
        )
    status = _choice(STATUSES, row.get("trang_thai"))
    if status is None:
        problems.append(_("trang_thai must be a status code from 1 to 10."))
    intake_channel = _choice(INTAKE_CHANNELS, row.get("kenh_tiep_nhan"))
    if intake_channel is None:
        problems.append(_("kenh_tiep_nhan must be 1 (in person), 2 (online) or 3 (BCCI)."))
    return_channel = RETURN_CHANNELS.get(_text(row.get("hinh_thuc_tra_ket_qua")).lower())
    if return_channel is None:
        problems.append(_("hinh_thuc_tra_ket_qua must be tai_quay, truc_tuyen or bcci."))
    moments, unreadable = {}, set()
    for column in ("ngay_tiep_nhan", "ngay_ket_thuc_xu_ly", "ngay_tra_ket_qua"):
        try:
            moments[column] = _parse_moment(row.get(column), column)
        except ValueError as exc:
            problems.append(str(exc))
            moments[column] = None
            unreadable.add(column)
    try:
        due = _parse_day(row.get("ngay_hen_tra"), "ngay_hen_tra")
    except ValueError as exc:
        problems.append(str(exc))
        due = None
    received, finished, returned = (
        moments["ngay_tiep_nhan"],
        moments["ngay_ket_thuc_xu_ly"],
        moments["ngay_tra_ket_qua"],
    )
    decline_reason = _text(row.get("ly_do_khong_nhan_qua_bcci")).lower()
    if decline_reason and decline_reason not in DECLINE_REASONS:
        problems.append(
            _("ly_do_khong_nhan_qua_bcci “%(value)s” is not one of: %(codes)s.")
            % {"value": decline_reason[:30], "codes": ", ".join(DeclineReason.values)}
        )
        decline_reason = DeclineReason.OTHER

    if status is not None:
        if status == Status.REGISTERED and received is not None:
            problems.append(_("ngay_tiep_nhan must be empty for a newly registered dossier (status 1)."))
        if status != Status.REGISTERED and received is None and "ngay_tiep_nhan" not in unreadable:
            problems.append(_("ngay_tiep_nhan is required for status %(status)d.") % {"status": status})
        if status in (Status.REFUSED, Status.STOPPED, Status.FINISHED) and finished is None:
            problems.append(_("ngay_ket_thuc_xu_ly is required for status %(status)d.") % {"status": status})
        if status == Status.RETURNED and returned is None:
            problems.append(_("ngay_tra_ket_qua is required for status 10."))
    for column, moment in (("ngay_ket_thuc_xu_ly", finished), ("ngay_tra_ket_qua", returned)):
        if moment is not None and moment > now:
            problems.append(_("%(column)s is in the future.") % {"column": column})
        if moment is not None and received is not None and moment < received:
            problems.append(_("%(column)s is before ngay_tiep_nhan.") % {"column": column})
    if due is not None and received is not None and due < workdays.local_date(received):
        problems.append(_("ngay_hen_tra is before ngay_tiep_nhan."))

    intake = None
    if intake_channel is not None and return_channel is not None:
        try:
            intake = validate_intake(
                procedure=procedure,
                applicant_name=_text(row.get("ho_ten_nguoi_nop")),
                applicant_phone=_phone(row.get("so_dien_thoai")),
                applicant_address=_text(row.get("dia_chi")),
                applicant_id_number=_id_number(row.get("so_dinh_danh")),
                intake_channel=intake_channel,
                return_channel=return_channel,
                decline_reason=decline_reason,
                decline_note=_text(row.get("ghi_chu_ly_do")),
                received_at=received or now,
                now=now,
            )
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                if field_name == "procedure" and procedure is None:
                    continue
                column = _FIELD_COLUMNS.get(field_name, field_name)
                problems.extend(f"{column}: {message}" for message in messages)
    if problems:
        raise ValueError(" ".join(dict.fromkeys(problems)))

    received_at = received if status != Status.REGISTERED else None
    if received_at is not None and due is None:
        due = catalogue.due_date(received_at, procedure.processing_days)
    ended = finished or (returned if status == Status.RETURNED else None)
    timeliness = ""
    if status in (Status.REFUSED, Status.STOPPED, Status.FINISHED, Status.RETURNED) and ended and due:
        timeliness = workdays.timeliness(workdays.local_date(ended), due)
    return {
        "code": code,
        "procedure_id": procedure.pk,
        "receiving_unit_id": unit.pk,
        "applicant_name": intake.applicant_name,
        "applicant_phone": intake.applicant_phone,
        "applicant_address": intake.applicant_address,
        "applicant_id_number": intake.applicant_id_number,
        "intake_channel": intake.intake_channel,
        "return_channel": intake.return_channel,
        "decline_reason": intake.decline_reason,
        "decline_note": intake.decline_note,
        "status": int(status),
        "received_at": received_at,
        "due_date": due,
        "finished_at": ended if status in ENDED else None,
        "returned_at": returned if status == Status.RETURNED else None,
        "timeliness": timeliness,
    }


# Integer codes to choices, looked up instead of calling the enum (a slow constructor).
STATUSES = {int(choice): choice for choice in Status}
INTAKE_CHANNELS = {int(choice): choice for choice in IntakeChannel}
ENDED = frozenset({Status.REFUSED, Status.WITHDRAWN, Status.STOPPED, Status.FINISHED, Status.RETURNED})

_FIELD_COLUMNS = {
    "applicant_name": "ho_ten_nguoi_nop",
    "applicant_phone": "so_dien_thoai",
    "applicant_address": "dia_chi",
    "applicant_id_number": "so_dinh_danh",
    "intake_channel": "kenh_tiep_nhan",
    "return_channel": "hinh_thuc_tra_ket_qua",
    "decline_reason": "ly_do_khong_nhan_qua_bcci",
    "decline_note": "ghi_chu_ly_do",
    "received_at": "ngay_tiep_nhan",
    "procedure": "ma_thu_tuc",
}


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
            new.append(
                Dossier(
                    **fields,
                    original_due_date=fields["due_date"],
                    tracking_pin=new_tracking_pin(),
                    created_by=actor,
                )
            )
            continue
        if dossier.receiving_unit_id != fields["receiving_unit_id"]:
            continue  # reported by the check; never move a dossier between units
        differences = [name for name in IMPORTED_FIELDS if getattr(dossier, name) != fields[name]]
        if not differences:
            unchanged += 1
            continue
        before.append(dossier_state(dossier))
        for name in differences:
            setattr(dossier, name, fields[name])
        if dossier.original_due_date is None or (
            dossier.due_date is not None and dossier.due_date < dossier.original_due_date
        ):
            dossier.original_due_date = dossier.due_date
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
    """dossiers.services.bump_code_sequence for many (unit, day) pairs in one statement."""
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
