"""The import's reading of a date cell: a local moment, or a refusal that names the column."""

from __future__ import annotations

from datetime import datetime

import pytest

from dossiers.importing.checking import _parse_moment
from dossiers.workdays import TZ


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("05/03/2025 14:30", datetime(2025, 3, 5, 14, 30, tzinfo=TZ)),
        ("05/03/2025", datetime(2025, 3, 5, tzinfo=TZ)),
        ("5/3/2025 9:05", datetime(2025, 3, 5, 9, 5, tzinfo=TZ)),  # the pattern's way
        ("05/03/2025 14:30:15", datetime(2025, 3, 5, 14, 30, 15, tzinfo=TZ)),
        ("2025-03-05T14:30", datetime(2025, 3, 5, 14, 30, tzinfo=TZ)),
    ],
)
def test_a_cell_becomes_a_local_moment(cell, expected):
    moment = _parse_moment(cell, "ngay_tiep_nhan")
    assert moment == expected and moment.tzinfo is TZ


@pytest.mark.parametrize(
    "cell", ["31/02/2025 10:00", "01/01/2025 24:00", "+1/01/2025 10:00", "01/01/1999 10:00"]
)
def test_an_impossible_or_implausible_moment_is_refused_with_the_column(cell):
    with pytest.raises(ValueError, match="ngay_tiep_nhan"):
        _parse_moment(cell, "ngay_tiep_nhan")
