"""UPU S10 postal item identifiers: 2 letters, 8 digits, a check digit, a 2-letter country.

Pure rules, no Django: ``check_digit("12345678") == 5`` and ``is_valid("EB123456785VN")``.
The check digit weighs the 8 serial digits by 8, 6, 4, 2, 3, 5, 9, 7; C = 11 − (sum mod 11),
with C = 10 written as 0 and C = 11 as 5.
"""

from __future__ import annotations

import re

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
CODE_RE = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
DEFAULT_COUNTRY = "VN"
# Service indicators used here: E* for express (EMS), R* for registered letters.
RETURN_SERVICE = "EB"
INTAKE_SERVICE = "RB"


class InvalidCode(ValueError):
    """A code that is not an S10 identifier; ``reason`` says which part is wrong."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_digit(serial8: str) -> int:
    if len(serial8) != 8 or not serial8.isascii() or not serial8.isdigit():
        raise InvalidCode("serial")
    remainder = sum(int(d) * w for d, w in zip(serial8, WEIGHTS, strict=True)) % 11
    c = 11 - remainder
    if c == 10:
        return 0
    if c == 11:
        return 5
    return c


def normalise(code: str) -> str:
    """What a scanner or a person typed, without spaces and in upper case."""
    return re.sub(r"\s+", "", code or "").upper()


def parse(code: str) -> tuple[str, str, int, str]:
    """(service indicator, serial, check digit, country); raises InvalidCode with the reason:
    ``format`` (not 2 letters + 9 digits + 2 letters) or ``check_digit`` (wrong check digit)."""
    match = CODE_RE.match(normalise(code))
    if not match:
        raise InvalidCode("format")
    service, serial, digit, country = match.groups()
    if check_digit(serial) != int(digit):
        raise InvalidCode("check_digit")
    return service, serial, int(digit), country


def is_valid(code: str) -> bool:
    try:
        parse(code)
    except InvalidCode:
        return False
    return True


def make_code(service: str, serial: int | str, country: str = DEFAULT_COUNTRY) -> str:
    serial8 = f"{int(serial):08d}"
    if len(serial8) != 8 or not re.fullmatch(r"[A-Z]{2}", service) or not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidCode("format")
    return f"{service}{serial8}{check_digit(serial8)}{country}"


def office_serial(office_block: int, number: int) -> int:
    """Serials of one post office: a 3-digit block for the office, then 5 digits counting up,
    so offices never draw from each other's range (blocks wrap after 1,000 offices; the issuing
    service then skips any serial already used)."""
    return (office_block % 1000) * 100_000 + (number % 100_000)
