"""Reading an import file: the columns of the format (docs/import-format.md), the limits, and
streaming the rows of a CSV (any of the usual encodings) or XLSX file."""

from __future__ import annotations

import codecs
import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from dossiers.models import (
    ReturnChannel,
)

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
