"""One defence against formula injection for every CSV and XLSX file the application writes.

Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula
by spreadsheet programs when a CSV file is opened (OWASP "CSV injection"). In CSV such text is
prefixed with an apostrophe, which the programs show as plain text. In XLSX a cell has a type,
so the text is kept as it is and written as a text cell, never as a formula (openpyxl would
otherwise store "=…" as one). Numbers, dates and ``None`` pass unchanged, so negative numbers
stay numbers.
"""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def safe_cell(value: Any, *, sheet=None) -> Any:
    """The value to write into a cell.

    Without ``sheet`` (CSV): formula-like text gets an apostrophe in front. With the openpyxl
    ``sheet`` it goes to (XLSX): formula-like text becomes a text cell with the same value.
    """
    if not looks_like_formula(value):
        return value
    if sheet is None:
        return "'" + value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def safe_row(values, *, sheet=None) -> list[Any]:
    return [safe_cell(value, sheet=sheet) for value in values]
