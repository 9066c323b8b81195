"""Reading an import file: the columns of the format (docs/import-format.md), the limits, and
streaming the rows of a CSV (any of the usual encodings) or XLSX file."""

from __future__ import annotations

import codecs
import csv
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from core.uploads import UploadLimits, UploadRefused, check_xlsx, is_xlsx
from dossiers.models import (
    ReturnChannel,
)

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


# Control characters in a column name are dropped: the name is quoted in messages ("columns
# ignored") that must be storable.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _normalise_header(value) -> str:
    name = _CONTROL.sub("", str(value or ""))
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


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


def _limit_message(check, value: int) -> str:
    try:
        check(value)
    except UploadRefused as refused:
        return str(refused)
    return ""


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
        if head.count(0) * 100 > len(head):
            raise ImportFileError(_("The file is neither a CSV text file nor an Excel (XLSX) workbook."))
        # A stray NUL in a text file: the row that holds it is reported (checking.check_row).
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    try:
        text = decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        raise ImportFileError(
            _("The file is not encoded in UTF-8. Save it again as “CSV UTF-8” and upload it again.")
        ) from None
    first_line = text.splitlines()[0] if text else ""
    if len(first_line) >= len(text) and len(head) >= SNIFF_BYTES:
        columns = max(first_line.count(delimiter) for delimiter in ",;\t") + 1
        if columns > LIMITS.max_columns:
            raise ImportFileError(_limit_message(LIMITS.check_columns, columns))
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
