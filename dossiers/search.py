"""Finding a dossier by what the citizen says: a name without diacritics, part of the code, a
phone number.

Names are compared folded: lower case, diacritics removed and ``đ`` read as ``d``, so that
``hong nhung`` finds ``Nguyễn Thị Hồng Nhung``. The database keeps the folded name in the
stored generated column ``applicant_name_folded``, computed by the function ``postdesk_fold``:
on PostgreSQL an immutable SQL wrapper around ``unaccent`` (migration 0002), on SQLite
:func:`fold` registered on each connection. A trigram index on the column serves the search.

Phones are matched on the normalised column (every write path stores
``normalize_phone``'s form), exact digits only: nothing is unmasked to compare.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Q

from dossiers.personal import normalize_phone

FOLD_FUNCTION = "postdesk_fold"
_PHONE = re.compile(r"^0\d{9,10}$")


def fold(value: str | None) -> str | None:
    """``Nguyễn Thị Đào`` → ``nguyen thi dao``: what both databases compare."""
    if value is None:
        return None
    text = value.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def register_sqlite_fold(sender, connection, **kwargs) -> None:
    """SQLite has no unaccent: each new connection gets the Python ``fold``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


def search_filter(text: str) -> Q | None:
    """The list's search box as a filter: a code or phone when the text has digits, else a name
    (every word must appear, in any order). ``None`` for an empty search."""
    text = " ".join((text or "").split())
    if not text:
        return None
    if any(ch.isdigit() for ch in text):
        # Codes are stored upper case; the trigram index is on UPPER(code) so that it serves
        # this search and never a lookup by the whole code (migration dossiers.0007).
        condition = Q(code__icontains=text)
        phone = normalize_phone(text)
        if _PHONE.match(phone):
            condition |= Q(applicant_phone=phone)
        return condition
    condition = Q()
    for word in fold(text).split():
        condition &= Q(applicant_name_folded__contains=word)
    return condition
