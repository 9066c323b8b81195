"""Query parameters read by hand (filters, pre-selections): whatever arrives, a value within the
database's bounds or ``None`` — never an exception that becomes a server error."""

from __future__ import annotations

from datetime import date

from core.bounds import MAX_INT, in_bounds

MAX_TEXT = 200  # a search box needs no more; longer input is cut, not sent to the database


def int_param(raw: str | None) -> int | None:
    """A positive id or number written with ASCII digits (``"²"`` and ``"١"`` are not), within
    the database's integer."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= MAX_INT else None


def int_list_param(values: list[str]) -> list[int]:
    return [value for value in map(int_param, values) if value is not None]


def date_param(raw: str | None) -> date | None:
    """An ISO date (``2026-03-04``) that exists and is within bounds, else ``None``."""
    if not raw or not raw.isascii():
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if in_bounds(value) else None


def text_param(raw: str | None) -> str:
    return (raw or "").replace("\x00", "").strip()[:MAX_TEXT]
