"""The post office registry as a spreadsheet: XLSX export, CSV/XLSX import with the same columns.

The columns are documented in ``docs/network.md``. An import is all-or-nothing: every row is
checked, every bad row is reported with its line number and the reasons, and a file with any
bad row saves nothing. Rows update the office with the same code, or create it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from communes import scoping
from communes.models import AdministrativeUnit, PostOffice
from communes.services import require_editor, save_post_office
from core.spreadsheets import safe_cell

# More rows than this is not a registry of one province: split the file.
MAX_ROWS = 10_000


@dataclass(frozen=True)
class Column:
    name: str  # header in the file
    field: str  # PostOffice field, or "" for columns that are only exported
    meaning: Any
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("code", "code", gettext_lazy("Office code, unique; a row with an existing code updates it"), True),
    Column("name", "name", gettext_lazy("Name"), True),
    Column("kind", "kind", gettext_lazy("Kind"), True),
    Column("commune_code", "commune", gettext_lazy("Official code of the commune or ward (5 digits)"), True),
    Column(
        "parent_code",
        "parent",
        gettext_lazy("Code of the parent office (in the registry or on an earlier line)"),
    ),
    Column("address", "address", gettext_lazy("Address")),
    Column("latitude", "latitude", gettext_lazy("Latitude, decimal degrees (e.g. 17.5901)")),
    Column("longitude", "longitude", gettext_lazy("Longitude, decimal degrees (e.g. 106.5312)")),
    Column("status", "status", gettext_lazy("Status")),
    Column("premises", "premises", gettext_lazy("Premises")),
    Column(
        "floor_area_m2", "floor_area_m2", gettext_lazy("Floor area in m², more than 0 and at most 10,000")
    ),
    Column("condition", "condition", gettext_lazy("Condition")),
    Column("staff_count", "staff_count", gettext_lazy("Staff count, a whole number")),
    Column(
        "combined_with_desk", "combined_with_desk", gettext_lazy("Combined with the commune one-stop desk")
    ),
    Column("bcci_intake", "offers_bcci_intake", gettext_lazy("Offers BCCI intake")),
    Column("bcci_return", "offers_bcci_return", gettext_lazy("Offers BCCI return")),
    Column("online_assistance", "offers_online_assistance", gettext_lazy("Offers online-service assistance")),
    Column("digitisation", "offers_digitisation", gettext_lazy("Offers digitisation")),
    Column("opening_hours", "opening_hours", gettext_lazy("Opening hours")),
)
# Exported for people reading the sheet; ignored on import.
EXPORT_ONLY: tuple[Column, ...] = (
    Column("commune_name", "", gettext_lazy("Commune name (ignored on import)")),
)

CHOICES = {
    "kind": PostOffice.Kind,
    "status": PostOffice.Status,
    "premises": PostOffice.Premises,
    "condition": PostOffice.Condition,
}
BOOLEAN_FIELDS = {
    c.field for c in COLUMNS if PostOffice._meta.get_field(c.field).get_internal_type() == "BooleanField"
}
TRUE_WORDS = {"1", "x", "có", "co", "yes", "true", "đúng"}
FALSE_WORDS = {"0", "không", "khong", "no", "false", "sai"}
COLUMN_FOR_FIELD = {c.field: c.name for c in COLUMNS}


@dataclass(frozen=True)
class RowError:
    line: int | None  # None: the file as a whole
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportFailed(Exception):
    """Nothing was imported; ``errors`` says where and why."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Export


def _cell(sheet, value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    return safe_cell(value, sheet=sheet)


def export_post_offices(offices: Iterable[PostOffice]) -> bytes:
    """An XLSX workbook: the registry on the first sheet, the column guide on the second."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Post offices")[:31])
    sheet.append([c.name for c in (*COLUMNS, *EXPORT_ONLY)])
    for office in offices:
        row = []
        for column in COLUMNS:
            if column.field == "commune":
                row.append(office.commune.code)
            elif column.field == "parent":
                row.append(office.parent.code if office.parent_id else None)
            else:
                row.append(_cell(sheet, getattr(office, column.field)))
        row.append(_cell(sheet, office.commune.name))
        sheet.append(row)
    guide = workbook.create_sheet(_("Columns")[:31])
    guide.append([_("Column"), _("Meaning"), _("Values")])
    for column in (*COLUMNS, *EXPORT_ONLY):
        guide.append([column.name, str(column.meaning), _allowed_values(column)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _allowed_values(column: Column) -> str:
    if column.field in CHOICES:
        return "; ".join(f"{value} = {label}" for value, label in CHOICES[column.field].choices)
    if column.field in BOOLEAN_FIELDS:
        return _("1 or “có” = yes; 0 or “không” = no")
    if column.required:
        return _("required")
    return ""


# ---------------------------------------------------------------------------------------------
# Reading a file


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header names and (line number, cells) rows of a CSV (UTF-8) or XLSX file."""
    name = filename.lower()
    if name.endswith(".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFailed(
            [RowError(None, _("The old Excel format (.xls) is not supported: save the file as .xlsx."))]
        )
    if data.startswith(b"PK\x03\x04") or name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")) or not name:
        rows = _csv_rows(data)
    else:
        raise ImportFailed([RowError(None, _("Upload a .csv or .xlsx file."))])
    rows = [(line, cells) for line, cells in rows if any(_text(c) for c in cells)]
    if not rows:
        raise ImportFailed([RowError(None, _("The file is empty."))])
    header_line, header_cells = rows[0]
    if header_line != 1:
        raise ImportFailed([RowError(None, _("The first line must hold the column names."))])
    header = [_text(c).lower() for c in header_cells]
    body = rows[1:]
    if len(body) > MAX_ROWS:
        raise ImportFailed(
            [RowError(None, _("The file has more than %(max)s rows: split it.") % {"max": f"{MAX_ROWS:,}"})]
        )
    return header, body


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(
            [
                RowError(
                    None,
                    _(
                        "The file is not UTF-8 text. In Excel choose “Save as” → “CSV UTF-8 (Comma "
                        "delimited)”, or upload the .xlsx file."
                    ),
                )
            ]
        ) from None
    first_line = text.split("\n", 1)[0]
    # Excel with Vietnamese regional settings separates columns with ";" (the decimal mark is ",").
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise ImportFailed(
            [RowError(reader.line_num, _("Unreadable CSV: %(error)s") % {"error": error})]
        ) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise ImportFailed([RowError(None, _("The file is not a valid Excel (.xlsx) workbook."))]) from None
    try:
        sheet = workbook.worksheets[0]
        return [(index, list(row)) for index, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------------
# Cells to values


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _code(value: Any, width: int = 0) -> str:
    """A code; spreadsheets turn "00004" into the number 4, so numbers are zero-padded again."""
    text = _text(value)
    if width and isinstance(value, int | float) and text.isdigit():
        return text.zfill(width)
    return text


def _decimal(value: Any, places: int) -> Decimal:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        number = Decimal(_text(value).replace(" ", "").replace(",", "."))
    if not number.is_finite():
        raise ValueError
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _choice_lookup() -> dict[str, dict[str, str]]:
    """Each choice by its code and by its label in Vietnamese and English, lower-cased."""
    lookup: dict[str, dict[str, str]] = {}
    for field_name, choices in CHOICES.items():
        names: dict[str, str] = {}
        for language in ("en", "vi"):
            with override(language):
                for value, label in choices.choices:
                    names[str(label).lower()] = value
        names.update({value: value for value in choices.values})
        lookup[field_name] = names
    return lookup


@dataclass
class ParsedRow:
    line: int
    code: str
    data: dict[str, Any] = field(default_factory=dict)
    commune_code: str = ""
    parent_code: str = ""
    errors: list[str] = field(default_factory=list)


def _parse_row(line: int, cells: dict[str, Any], choices: dict[str, dict[str, str]]) -> ParsedRow:
    row = ParsedRow(line=line, code=_code(cells.get("code")))

    def fail(column: str, message: str) -> None:
        row.errors.append(f"{column}: {message}")

    for column in COLUMNS:
        if column.name not in cells:
            continue
        raw = cells[column.name]
        text = _text(raw)
        if not text:
            if column.required:
                fail(column.name, _("A value is required."))
            elif column.field in ("parent", "latitude", "longitude", "floor_area_m2"):
                row.data[column.field] = None
            elif column.field in ("commune",):
                pass
            else:
                row.data[column.field] = PostOffice._meta.get_field(column.field).get_default()
            continue
        if column.field == "commune":
            row.commune_code = _code(raw, width=5)
        elif column.field == "parent":
            row.parent_code = _code(raw)
        elif column.field == "code":
            row.data["code"] = row.code
        elif column.field in CHOICES:
            value = choices[column.field].get(text.lower())
            if value is None:
                fail(
                    column.name,
                    _("“%(value)s” is not one of: %(allowed)s.")
                    % {"value": text, "allowed": ", ".join(CHOICES[column.field].values)},
                )
            else:
                row.data[column.field] = value
        elif column.field in BOOLEAN_FIELDS:
            if text.lower() in TRUE_WORDS:
                row.data[column.field] = True
            elif text.lower() in FALSE_WORDS:
                row.data[column.field] = False
            else:
                fail(
                    column.name, _("“%(value)s” is neither yes (1, có) nor no (0, không).") % {"value": text}
                )
        elif column.field in ("latitude", "longitude", "floor_area_m2"):
            places = 1 if column.field == "floor_area_m2" else 6
            try:
                row.data[column.field] = _decimal(raw, places)
            except (InvalidOperation, ValueError):
                fail(column.name, _("“%(value)s” is not a number.") % {"value": text})
        elif column.field == "staff_count":
            try:
                number = _decimal(raw, 0)
                if number < 0 or number != Decimal(text.replace(",", ".")):
                    raise ValueError
                row.data["staff_count"] = int(number)
            except (InvalidOperation, ValueError):
                fail(column.name, _("“%(value)s” is not a whole number of 0 or more.") % {"value": text})
        else:
            row.data[column.field] = text
    return row


def _check_header(header: list[str]) -> list[str]:
    known = {c.name for c in (*COLUMNS, *EXPORT_ONLY)}
    problems = []
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        problems.append(_("Columns appear twice: %(columns)s.") % {"columns": ", ".join(duplicates)})
    missing = [c.name for c in COLUMNS if c.required and c.name not in header]
    if missing:
        problems.append(_("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    unknown = [name or "(trống)" for name in header if name not in known]
    if unknown:
        problems.append(
            _("Unknown columns: %(columns)s. Use the columns listed in the guide.")
            % {"columns": ", ".join(unknown)}
        )
    return problems


# ---------------------------------------------------------------------------------------------
# The import service


def import_post_offices(*, by, data: bytes, filename: str = "") -> ImportResult:
    """Create or update offices from a CSV/XLSX file, all or nothing (raises ``ImportFailed``)."""
    require_editor(by)
    header, body = read_table(data, filename)
    problems = _check_header(header)
    if problems:
        raise ImportFailed([RowError(1, message) for message in problems])
    choices = _choice_lookup()
    rows = [
        _parse_row(
            line, {name: cells[i] if i < len(cells) else None for i, name in enumerate(header)}, choices
        )
        for line, cells in body
    ]
    with transaction.atomic():
        result, errors = _apply(rows, by=by, filename=filename)
        if errors:
            raise ImportFailed(errors)  # rolls back every row saved before
    return result


def _apply(rows: list[ParsedRow], *, by, filename: str) -> tuple[ImportResult, list[RowError]]:
    result, errors = ImportResult(), []
    codes = {r.code for r in rows} | {r.parent_code for r in rows if r.parent_code}
    existing = {
        o.code: o for o in PostOffice.objects.filter(code__in=codes).select_related("commune", "parent")
    }
    communes = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(code__in={r.commune_code for r in rows if r.commune_code})
    }
    office_ids = scoping.post_office_ids(by) if by is not None else scoping.ALL
    first_line: dict[str, int] = {}
    imported: dict[str, PostOffice] = {}  # offices saved by this file, by code
    created_ids: set[int] = set()
    for row in rows:
        if row.code in first_line:
            row.errors.append(
                "code: "
                + _("The code %(code)s already appears on line %(line)s.")
                % {"code": row.code, "line": first_line[row.code]}
            )
        elif row.code:
            first_line[row.code] = row.line
        office = existing.get(row.code)
        if office is not None and office_ids is not scoping.ALL and office.pk not in office_ids:
            row.errors.append(
                "code: "
                + _("The code %(code)s is already used by an office outside your scope.") % {"code": row.code}
            )
        if row.commune_code:
            commune = communes.get(row.commune_code)
            if commune is None:
                row.errors.append(
                    "commune_code: " + _("No commune has the code %(code)s.") % {"code": row.commune_code}
                )
            else:
                row.data["commune"] = commune
        if row.parent_code:
            parent = imported.get(row.parent_code) or existing.get(row.parent_code)
            if parent is None:
                row.errors.append(
                    "parent_code: "
                    + _("Office %(code)s is neither in the registry nor on an earlier line.")
                    % {"code": row.parent_code}
                )
            else:
                row.data["parent"] = parent
        if row.errors:
            errors.append(RowError(row.line, " ".join(row.errors)))
            continue
        try:
            with transaction.atomic():
                saved, changed = save_post_office(
                    office=office,
                    by=by,
                    data=row.data,
                    source=f"import:{filename}" if filename else "import",
                    trusted_parent_ids=created_ids,
                )
        except ValidationError as error:
            errors.append(RowError(row.line, _describe(error)))
            continue
        except IntegrityError:
            errors.append(RowError(row.line, _("The row conflicts with data already saved.")))
            continue
        imported[saved.code] = saved
        if office is None:
            created_ids.add(saved.pk)
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result, errors


def _describe(error: ValidationError) -> str:
    parts = []
    for field_name, messages in error.message_dict.items():
        column = COLUMN_FOR_FIELD.get(field_name)
        parts.extend(f"{column}: {m}" if column else m for m in messages)
    return " ".join(parts)
