"""Limits on every uploaded spreadsheet (CSV or XLSX), checked before the file is read whole.

A compressed workbook of a few hundred kilobytes can hold millions of rows or a header of
50,000 columns; a CSV can hold one huge line. Each import states its ``UploadLimits`` and reads
the file through the helpers here, so that:

- the bytes on disk are checked before anything is opened;
- an XLSX's members are checked by their declared uncompressed sizes (``zipfile`` never
  inflates a member past its declared size) and its first sheet by the dimension it declares,
  before a cell is parsed;
- rows and columns are counted while streaming, and the file is refused at the first row or
  cell past the limit;
- a report of bad rows keeps only the first ``MAX_REPORTED_ERRORS`` in memory and counts the
  rest (``ErrorReport``).

The messages are shown to the person who uploaded the file.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Bad rows listed to the user (and kept in memory); the others are only counted.
MAX_REPORTED_ERRORS = 1000
XLSX_MAGIC = b"PK\x03\x04"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")


class UploadRefused(Exception):
    """The file as a whole breaks a limit or cannot be read: nothing is imported."""


class DamagedWorkbook(UploadRefused):
    def __init__(self):
        super().__init__(_("The Excel file cannot be read; it may be damaged or not an XLSX workbook."))


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_rows: int  # data rows, the header not counted
    max_columns: int
    max_uncompressed_bytes: int  # XLSX: all members of the workbook together

    def check_size(self, size: int) -> None:
        if size > self.max_bytes:
            raise UploadRefused(
                _("The file is larger than %(size)s; split it into smaller files.")
                % {"size": human_size(self.max_bytes)}
            )

    def check_columns(self, count: int) -> None:
        if count > self.max_columns:
            raise UploadRefused(
                _("The file has more than %(max)s columns; keep only the columns of the import format.")
                % {"max": f"{self.max_columns:,}"}
            )

    def check_rows(self, count: int) -> None:
        if count > self.max_rows:
            raise UploadRefused(
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": f"{self.max_rows:,}"}
            )


def human_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:,.0f} MB"
    return f"{size / 2**10:,.0f} KB"


def column_number(letters: str) -> int:
    """Spreadsheet column letters to a number: A = 1, Z = 26, AA = 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def check_xlsx(source, limits: UploadLimits) -> int:
    """Check a workbook before reading it: the declared uncompressed size of its members and the
    dimension its first sheet declares. ``source`` is a path or a binary file object. Returns the
    uncompressed size (which tells how much work reading it will be)."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DamagedWorkbook() from None
    with archive:
        members = archive.infolist()
        if len(members) > 10_000:
            raise DamagedWorkbook()
        uncompressed = sum(member.file_size for member in members)
        if uncompressed > limits.max_uncompressed_bytes:
            raise UploadRefused(
                _(
                    "Unpacked, the Excel file holds more than %(size)s; split it into smaller files "
                    "or save it as CSV."
                )
                % {"size": human_size(limits.max_uncompressed_bytes)}
            )
        sheet = _first_sheet_name(archive)
        if sheet is not None:
            with archive.open(sheet) as handle:
                head = handle.read(4096)
            found = _DIMENSION.search(head)
            if found:
                _first_col, _first_row, last_col, last_row = (
                    part.decode() if part else None for part in found.groups()
                )
                if last_row:
                    limits.check_rows(int(last_row) - 1)
                if last_col:
                    limits.check_columns(column_number(last_col))
    return uncompressed


def _first_sheet_name(archive: zipfile.ZipFile) -> str | None:
    """The member of the first worksheet; openpyxl reads the same one (sheet1 in every file
    Excel, LibreOffice and openpyxl write; otherwise the first worksheet member)."""
    names = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    if "xl/worksheets/sheet1.xml" in names:
        return "xl/worksheets/sheet1.xml"
    return min(names) if names else None


def is_xlsx(head: bytes) -> bool:
    return head.startswith(XLSX_MAGIC)


@dataclass
class ErrorReport:
    """Bad rows of one file: the first MAX_REPORTED_ERRORS kept (by line), the rest counted."""

    limit: int = MAX_REPORTED_ERRORS
    count: int = 0
    errors: list[dict] = field(default_factory=list)

    def add(self, line: int | None, message: str) -> None:
        self.count += 1
        if len(self.errors) < self.limit:
            self.errors.append({"line": line, "message": message})

    def merge(self, errors: list[dict], count: int) -> None:
        """Add another source's first errors (``count`` in all), keeping the first by line."""
        self.count += count
        self.errors = sorted([*self.errors, *errors], key=lambda error: error["line"] or 0)[: self.limit]

    def __bool__(self) -> bool:
        return self.count > 0
