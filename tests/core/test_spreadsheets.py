"""core.spreadsheets.safe_cell: text a spreadsheet program would run as a formula stays text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from core.spreadsheets import safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+84912345678", "'+84912345678"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("", ""),
        (-3, -3),
        (Decimal("-1.5"), Decimal("-1.5")),
        (date(2026, 3, 4), date(2026, 3, 4)),
        (None, None),
    ],
)
def test_csv_cells_that_look_like_formulas_get_an_apostrophe(value, expected):
    assert safe_cell(value) == expected


def test_xlsx_cells_that_look_like_formulas_stay_text_with_their_value():
    sheet = Workbook(write_only=True).create_sheet()
    cell = safe_cell("=1+1", sheet=sheet)
    assert cell.value == "=1+1" and cell.data_type == "s"
    assert safe_cell("Xã Hoàn Lão", sheet=sheet) == "Xã Hoàn Lão"
