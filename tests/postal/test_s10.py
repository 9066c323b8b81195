"""UPU S10 check digits: published vectors and the two special cases (C = 10 → 0, C = 11 → 5)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postal import s10

# (serial, check digit) — weights 8 6 4 2 3 5 9 7, C = 11 − (sum mod 11)
CHECK_DIGITS = [
    ("12345678", 5),  # UPU example RR123456785GB and the Vietnamese EB123456785VN: sum 204, mod 11 = 6
    ("47312482", 9),  # sum 79, mod 11 = 2 → 9
    ("00000001", 4),  # sum 7 → 4
    ("10000000", 3),  # sum 8 → 3
    ("00000200", 1),  # sum 10 → 1
    ("00000008", 0),  # sum 56, mod 11 = 1 → C = 10, written 0
    ("00000000", 5),  # sum 0 → C = 11, written 5
    ("00000011", 6),  # sum 16, mod 11 = 5 → 6
]


@pytest.mark.parametrize(("serial", "expected"), CHECK_DIGITS)
def test_check_digit_table(serial, expected):
    assert s10.check_digit(serial) == expected


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("RR123456785GB", True),
        ("EB123456785VN", True),
        ("eb 1234 5678 5vn", True),  # typed by hand: spaces and lower case are forgiven
        ("EB123456784VN", False),  # wrong check digit
        ("EB000000080VN", True),
        ("EB000000005VN", True),
        ("EB12345678VN", False),  # one digit short
        ("E1123456785VN", False),
        ("EB123456785V", False),
        ("", False),
        ("EB１２３４５６７８５VN", False),  # full-width digits are not S10
    ],
)
def test_is_valid(code, valid):
    assert s10.is_valid(code) is valid


def test_wrong_check_digit_is_told_apart_from_a_wrong_format():
    with pytest.raises(s10.InvalidCode) as wrong_digit:
        s10.parse("EB123456784VN")
    assert wrong_digit.value.reason == "check_digit"
    with pytest.raises(s10.InvalidCode) as wrong_format:
        s10.parse("hello")
    assert wrong_format.value.reason == "format"


@given(st.integers(min_value=0, max_value=99_999_999))
def test_every_made_code_is_valid_and_a_changed_digit_is_caught(serial):
    code = s10.make_code("EB", serial)
    assert s10.is_valid(code)
    digit = int(code[10])
    assert not s10.is_valid(code[:10] + str((digit + 1) % 10) + code[11:])


def test_offices_draw_serials_from_their_own_block():
    assert s10.office_serial(7, 1) == 700_001
    assert s10.office_serial(8, 1) != s10.office_serial(7, 1)
    assert s10.office_serial(1007, 42) == s10.office_serial(7, 42)  # wraps; the service skips used codes
