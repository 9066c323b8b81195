"""Dossier codes: ``<receiving unit's identifier>-<YYMMDD>-<NNNN>``, the sequence counting per
unit per day from 0001.

Pure formatting and parsing; the sequence that hands out numbers is
``dossiers.services.next_dossier_code`` (one row per unit and day, never reused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

# The number has four digits and grows past 9,999 rather than failing on a very busy day.
_CODE = re.compile(r"^(?P<prefix>[0-9A-Za-z.]+(?:-[0-9A-Za-z.]+)*?)-(?P<day>\d{6})-(?P<number>\d{4,})$")


@dataclass(frozen=True)
class DossierCode:
    prefix: str
    day: date
    number: int

    def __str__(self) -> str:
        return format_code(self.prefix, self.day, self.number)


def format_code(prefix: str, day: date, number: int) -> str:
    """``format_code("000.06.16.G09", date(2026, 7, 15), 1) == "000.06.16.G09-260715-0001"``."""
    if not prefix or any(ch.isspace() for ch in prefix):
        raise ValueError("the unit prefix must be a non-empty identifier")
    if number < 1:
        raise ValueError("dossier numbers start at 1")
    return f"{prefix}-{day:%y%m%d}-{number:04d}"


@lru_cache(maxsize=8192)
def parse_code(code: str) -> DossierCode:
    """Split a dossier code into prefix, day and number; ValueError when it is not one.

    Remembered for the last few thousand codes: an import parses each code when it checks a
    row and again when it writes the batch (its place in the unit's numbering)."""
    match = _CODE.match((code or "").strip())
    if not match:
        raise ValueError(f"not a dossier code: {code!r}")
    day = _code_day(match["day"])
    if day is None:
        raise ValueError(f"not a dossier code (bad date): {code!r}")
    number = int(match["number"])
    if number < 1:
        raise ValueError(f"not a dossier code (number 0): {code!r}")
    return DossierCode(prefix=match["prefix"], day=day, number=number)


@lru_cache(maxsize=4096)
def _code_day(digits: str) -> date | None:
    """``YYMMDD`` as a date (None when it is not one); cached, as an import parses a code per row
    and a file holds a few hundred distinct days."""
    try:
        return datetime.strptime(digits, "%y%m%d").date()
    except ValueError:
        return None


def is_valid_code(code: str) -> bool:
    try:
        parse_code(code)
    except ValueError:
        return False
    return True
