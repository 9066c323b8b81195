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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import scoping
from communes.models import AdministrativeUnit
from communes.weekmarks import DOSSIER_FIELDS, dossier_state, mark_dossiers, mark_weeks, monday_of
from core.uploads import MAX_REPORTED_ERRORS, ErrorReport, UploadLimits, UploadRefused, check_xlsx, is_xlsx
from dossiers import statuses, workdays
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
# What one file may hold (docs/import-format.md): checked before the file is read whole (the
# size, an XLSX's unpacked size and declared dimension) and again while it is read.
LIMITS = UploadLimits(
    max_bytes=MAX_FILE_BYTES, max_rows=500_000, max_columns=100, max_uncompressed_bytes=400 * 2**20
)
# Files up to this size (unpacked, for a workbook) are imported during the upload request;
# larger ones by a worker.
INLINE_IMPORT_BYTES = 256 * 1024
# A running job whose worker has not reported for this long has died (killed, out of memory,
# machine restarted): it is marked failed and can be started again.
STALLED_AFTER = timedelta(minutes=15)

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
    expected_rows: int = 0  # an estimate for the progress bar (0: unknown)


def _normalise_header(value) -> str:
    return str(value or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def _check_header(header: list[str]) -> list[str]:
    try:
        LIMITS.check_columns(len(header))
    except UploadRefused as refused:
        raise ImportFileError(str(refused)) from None
    counts = Counter(header)
    missing = [name for name in REQUIRED if name not in counts]
    duplicated = sorted(name for name, count in counts.items() if name and count > 1)
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
    if is_xlsx(head):
        return _open_xlsx(path)
    return _open_csv(path, head)


def work_size(path: str | Path) -> int:
    """How much there is to read: the size of a CSV, the unpacked size of a workbook (a small
    XLSX can unpack to hundreds of megabytes). Decides whether the upload request imports it."""
    path = Path(path)
    with path.open("rb") as handle:
        if not is_xlsx(handle.read(4)):
            return path.stat().st_size
    try:
        return check_xlsx(path, LIMITS)
    except UploadRefused:
        return LIMITS.max_uncompressed_bytes + 1  # the worker reports it


def _limited(rows: Iterator[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """Stop at the first row past the limit: the file is refused, not read to its end."""
    for count, row in enumerate(rows, start=1):
        if count > LIMITS.max_rows:
            try:
                LIMITS.check_rows(count)
            except UploadRefused as refused:
                raise ImportFileError(str(refused)) from None
        yield row


def _estimate_lines(path: Path) -> int:
    """Lines of a CSV (a cell may hold a line break: an estimate for the progress bar)."""
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(2**20):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)


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
                if len(cells) > LIMITS.max_columns:
                    LIMITS.check_columns(len(cells))
                if not any(cell.strip() for cell in cells):
                    continue
                yield reader.line_num, dict(zip(header, cells, strict=False))
        except UploadRefused as refused:
            raise ImportFileError(str(refused)) from None
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

    return Table(
        header=header,
        ignored=ignored,
        rows=_limited(rows()),
        close=handle.close,
        expected_rows=_estimate_lines(path),
    )


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        check_xlsx(path, LIMITS)
    except UploadRefused as refused:
        raise ImportFileError(str(refused)) from None
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        expected = max((sheet.max_row or 1) - 1, 0)  # from the sheet's declared dimension
        # Cells past the column limit are never built (one more tells the row is too wide).
        iterator = sheet.iter_rows(values_only=True, max_col=LIMITS.max_columns + 1)
        header = _trimmed([_normalise_header(cell) for cell in next(iterator, ())])
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
        try:
            for number, cells in enumerate(iterator, start=2):
                if cells[-1:] not in ((None,), ("",), ()):
                    LIMITS.check_columns(len(cells))
                if not any(cell not in (None, "") for cell in cells):
                    continue
                yield number, dict(zip(header, cells, strict=False))
        except UploadRefused as refused:
            raise ImportFileError(str(refused)) from None

    return Table(
        header=header, ignored=ignored, rows=_limited(rows()), close=workbook.close, expected_rows=expected
    )


def _trimmed(header: list[str]) -> list[str]:
    """A header read with ``max_col`` is padded with empty names up to it."""
    while header and not header[-1]:
        header.pop()
    return header


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


# Characters no dossier field may hold: the database refuses NUL in text, and the other
# control characters (tab and line breaks aside) only come from damaged or hostile files.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_row(row: dict, catalogue: Catalogue, *, now: datetime) -> dict:
    """The dossier fields of one row, or ValueError with every problem of the row.

    The one rule set for a dossier coming from outside the desk: the import checks each row of
    a file with it, and anything else that takes a dossier in the file's columns (one row, e.g.
    the API) calls ``validate_row``, which adds the checks against the database.
    """
    problems: list[str] = []
    texts = [value for value in row.values() if isinstance(value, str)]
    if _CONTROL.search("".join(texts)):
        columns = [name for name, value in row.items() if isinstance(value, str) and _CONTROL.search(value)]
        problems.append(
            _("%(columns)s: holds a control character (such as NUL) that no text may contain.")
            % {"columns": ", ".join(sorted(columns))}
        )
    code = _text(row.get("ma_ho_so"))
    try:
        parsed_code = parse_code(code)
    except ValueError:
        parsed_code = None
        problems.append(
            _("ma_ho_so “%(value)s” is not a dossier code like 000.00.00.H00-YYMMDD-0001.")
            % {"value": _CONTROL.sub("?", code[:50])}
        )
    procedure_code = _text(row.get("ma_thu_tuc"))
    procedure = catalogue.procedures.get(procedure_code)
    if procedure is None:
        problems.append(
            _("ma_thu_tuc “%(value)s” is not in the catalogue.")
            % {"value": _CONTROL.sub("?", procedure_code[:40])}
        )
    unit_code = _text(row.get("ma_don_vi"))
    unit = catalogue.units.get(unit_code)
    if unit is None:
        problems.append(
            _("ma_don_vi “%(value)s” is not a commune you may import for.")
            % {"value": _CONTROL.sub("?", unit_code[:40])}
        )
    elif parsed_code is not None and parsed_code.prefix not in (unit.identifier, unit.code):
        # A code names the unit that received the dossier: another unit's numbering would take
        # that unit's codes (and its citizens' lookups) away from it.
        problems.append(
            _("ma_ho_so %(code)s is in the numbering of %(prefix)s, not of %(unit)s (%(identifier)s).")
            % {
                "code": code,
                "prefix": parsed_code.prefix,
                "unit": unit_code,
                "identifier": unit.dossier_prefix,
            }
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
        "finished_at": ended if status in statuses.ENDED else None,
        "returned_at": returned if status == Status.RETURNED else None,
        "timeliness": timeliness,
    }


# Integer codes to choices, looked up instead of calling the enum (a slow constructor).
STATUSES = {int(choice): choice for choice in Status}
INTAKE_CHANNELS = {int(choice): choice for choice in IntakeChannel}

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


def _owners(codes: list[str]) -> dict[str, int]:
    """The receiving unit of each code that already belongs to a dossier."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list of thousands (quoted one by one).
        table = connection.ops.quote_name(Dossier._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, receiving_unit_id FROM {table} WHERE code = ANY(%s)", [codes])  # noqa: S608
            return dict(cursor.fetchall())
    return dict(Dossier.objects.filter(code__in=codes).values_list("code", "receiving_unit_id"))


def _repeated(code: str) -> str:
    return _("ma_ho_so %(code)s appears twice in the file.") % {"code": code}


def _taken(code: str) -> str:
    return _("ma_ho_so %(code)s already belongs to a dossier of another unit.") % {"code": code}


def validate_row(row: dict, *, user, now: datetime | None = None, catalogue: Catalogue | None = None) -> dict:
    """One dossier in the import's columns, checked as the import checks a row of a file: the
    dossier fields, or ValueError with every problem (in Vietnamese). For a single dossier
    coming from outside the desk (the API); ``user`` limits the units as for an import."""
    now = now or timezone.now()
    fields = check_row(row, catalogue or Catalogue(user), now=now)
    owner = _owners([fields["code"]]).get(fields["code"])
    if owner is not None and owner != fields["receiving_unit_id"]:
        raise ValueError(_taken(fields["code"]))
    return fields


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
        for batch in _batches(table.rows, BATCH_SIZE):
            good = []
            for line, row in batch:
                try:
                    good.append((line, check_row(row, catalogue, now=now)))
                except ValueError as exc:
                    report.add(line, str(exc))
            stage.add(good)
            processed += len(batch)
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

    def add(self, good: list[tuple[int, dict]]) -> None:
        owners = _owners([fields["code"] for _line, fields in good])
        kept = []
        for line, fields in good:
            code = fields["code"]
            if code in self.seen:
                self.report.add(line, _repeated(code))
                continue
            self.seen.add(code)
            owner = owners.get(code)
            if owner is not None and owner != fields["receiving_unit_id"]:
                self.report.add(line, _taken(code))
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
        self.prefixes: dict[int, str] = {}  # unit id -> dossier_prefix, loaded as units appear
        self.staged = 0
        self.good = 0
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
        # Repeated codes (every occurrence after the first) and codes of another unit's dossier.
        self.mark_bad = (
            f"UPDATE {self.TABLE} s SET bad = true FROM ("  # noqa: S608 - names from the models
            f" SELECT line, count(*) OVER (PARTITION BY code ORDER BY line) > 1 AS repeated"
            f" FROM {self.TABLE}) r"
            f" WHERE r.line = s.line AND (r.repeated OR EXISTS (SELECT 1 FROM {dossiers} d"
            f" WHERE d.code = s.code AND d.receiving_unit_id <> s.receiving_unit_id))"
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
            if model_field.primary_key:
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
            and model_field.attname not in (*self.columns, "tracking_pin")
            and model_field.attname not in ("original_due_date", "created_by_id", "created_at", "updated_at")
        }
        self.insert = (
            f"WITH created AS ("  # noqa: S608
            f" INSERT INTO {dossiers} ({', '.join(insert_columns)})"
            f" SELECT {', '.join(values)} FROM {self.TABLE} s"
            f" WHERE NOT s.bad AND NOT EXISTS (SELECT 1 FROM {dossiers} d WHERE d.code = s.code)"
            # In code order: neighbouring entries of the code and unit indexes, fewer pages.
            f" ORDER BY s.code ON CONFLICT (code) DO NOTHING RETURNING id, code, status, {week_fields}"
            f"), events AS ("
            f" INSERT INTO {events} (dossier_id, actor_id, at, action, from_status, to_status, details)"
            f" SELECT id, %(actor)s, %(now)s, 'dossier.imported', NULL, status, %(details)s::jsonb"
            f" FROM created ORDER BY id"
            f"), sequences AS ("
            f" INSERT INTO {sequences} AS q (unit_id, day, last_number)"
            f" SELECT s.sequence_unit_id, s.sequence_day, max(s.sequence_number)"
            f" FROM created c JOIN {self.TABLE} s ON s.code = c.code"
            f" WHERE s.sequence_day IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2"
            f" ON CONFLICT (unit_id, day) DO UPDATE"
            f" SET last_number = GREATEST(q.last_number, excluded.last_number)"
            f"), touched AS ("
            f" INSERT INTO {self.TOUCHED} ({week_fields}) SELECT {week_fields} FROM created"
            f") SELECT count(*) FROM created"
        )
        # Codes another unit took between the check and the writing (left alone).
        self.taken = (
            f"SELECT count(*) FROM {self.TABLE} s JOIN {dossiers} d ON d.code = s.code"  # noqa: S608
            f" WHERE NOT s.bad AND d.receiving_unit_id <> s.receiving_unit_id"
        )
        # The weeks of the written dossiers, as communes.weekmarks.dossier_weeks works them out
        # for one dossier: received, finished and returned weeks, and the weeks from the due date
        # (not before the reception) to the close, or to this week, in which it may be overdue.
        local = "AT TIME ZONE 'Asia/Ho_Chi_Minh'"
        week = "date_trunc('week', t.{} " + local + ")"
        self.weeks = (
            f"SELECT DISTINCT t.receiving_unit_id, w.monday::date FROM {self.TOUCHED} t, LATERAL ("  # noqa: S608
            f" SELECT {week.format('received_at')} UNION ALL SELECT {week.format('finished_at')}"
            f" UNION ALL SELECT {week.format('returned_at')}"
            f" UNION ALL SELECT generate_series(greatest(date_trunc('week', t.due_date::timestamp),"
            f" {week.format('received_at')}), coalesce(least({week.format('finished_at')},"
            f" {week.format('returned_at')}), %(this_week)s::timestamp), interval '7 days')"
            f") w (monday) WHERE t.received_at IS NOT NULL AND w.monday IS NOT NULL"
        )
        assert str(workdays.TZ) == "Asia/Ho_Chi_Minh"  # the zone written into the statement above

    def _sequence(self, code: str, unit_id: int) -> tuple:
        """(unit, day, number) when the code is in the unit's own numbering, else NULLs."""
        parsed = parse_code(code)
        if parsed.prefix != self.prefixes[unit_id]:
            return None, None, None
        return unit_id, parsed.day, parsed.number

    def add(self, good: list[tuple[int, dict]]) -> None:
        if not self.staged:
            with connection.cursor() as cursor:
                for statement in self.create_tables:
                    cursor.execute(statement)
        self.staged += 1
        if not good:
            return
        units = {fields["receiving_unit_id"] for _line, fields in good} - self.prefixes.keys()
        for unit in AdministrativeUnit.objects.filter(pk__in=units).only("code", "identifier"):
            self.prefixes[unit.pk] = unit.dossier_prefix
        columns = self.columns
        with connection.cursor() as cursor, cursor.copy(self.copy) as copy:
            for line, fields in good:
                copy.write_row(
                    (
                        line,
                        *[fields[name] for name in columns],
                        new_tracking_pin(),
                        *self._sequence(fields["code"], fields["receiving_unit_id"]),
                    )
                )
        self.good += len(good)

    def check(self) -> tuple[list[dict], int]:
        """Codes repeated in the file and codes of another unit's dossier: the rows are marked
        bad (left out of the writing) and the first MAX_REPORTED_ERRORS of them reported."""
        if not self.good:
            return [], 0
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX ON {self.TABLE} (code, line)")
            cursor.execute(f"ANALYZE {self.TABLE}")
            cursor.execute(self.mark_bad)
            count = cursor.rowcount
            if not count:
                return [], 0
            cursor.execute(self.bad_rows)
            errors = []
            while len(errors) < MAX_REPORTED_ERRORS and (row := cursor.fetchone()):
                line, code, repeated, taken = row
                if repeated or taken:
                    errors.append(
                        {
                            "line": line,
                            "message": " ".join([*[_repeated(code)] * repeated, *[_taken(code)] * taken]),
                        }
                    )
        self.good -= count
        return errors, count

    @transaction.atomic
    def write(self, now: datetime) -> tuple[int, int, int]:
        if not self.good:
            return 0, 0, 0
        params = {
            "actor": self.job.created_by_id,
            "job": self.job.pk,
            "now": now,
            "written_at": timezone.now(),
            "details": json.dumps(_imported_details(self.job)),
            **self.defaults,
        }
        with connection.cursor() as cursor:
            # Short statements: compiling them (JIT) would cost more than running them.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(self.update, params)
            updated = cursor.fetchone()[0]
            cursor.execute(self.insert, params)
            created = cursor.fetchone()[0]
            cursor.execute(self.taken, params)
            taken = cursor.fetchone()[0]
            this_week = monday_of(timezone.now())
            cursor.execute(self.weeks, {"this_week": this_week})
            mark_weeks(cursor.fetchall())
        # Rows whose code another unit took after the check are left alone (neither counted
        # as created nor as updated), like the unchanged ones.
        return created, updated, self.good - created - updated - taken

    def close(self) -> None:
        if self.staged:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}, {self.TOUCHED}")


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
