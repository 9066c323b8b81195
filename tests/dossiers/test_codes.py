from __future__ import annotations

from datetime import date

import pytest

from dossiers.codes import format_code, is_valid_code, parse_code


@pytest.mark.parametrize(
    ("prefix", "day", "number", "expected"),
    [
        ("000.06.16.G09", date(2026, 7, 15), 1, "000.06.16.G09-260715-0001"),
        ("000.01.16.H44", date(2027, 1, 2), 42, "000.01.16.H44-270102-0042"),
        ("19111", date(2026, 12, 31), 9999, "19111-261231-9999"),
        ("19111", date(2026, 12, 31), 10000, "19111-261231-10000"),  # grows, never fails
    ],
)
def test_format_and_parse_round_trip(prefix, day, number, expected):
    code = format_code(prefix, day, number)
    assert code == expected
    parsed = parse_code(code)
    assert (parsed.prefix, parsed.day, parsed.number) == (prefix, day, number)
    assert str(parsed) == code


@pytest.mark.parametrize(
    "code",
    [
        "",
        "000.06.16.G09",
        "000.06.16.G09-261315-0001",
        "000.06.16.G09-260715-001",
        "X-260715-0000",
        "-260715-0001",
    ],
)
def test_parse_rejects_what_is_not_a_code(code):
    assert not is_valid_code(code)
    with pytest.raises(ValueError):
        parse_code(code)


def test_format_rejects_number_zero_and_empty_prefix():
    with pytest.raises(ValueError):
        format_code("19111", date(2026, 1, 1), 0)
    with pytest.raises(ValueError):
        format_code("", date(2026, 1, 1), 1)
