"""Applicants' personal data: the form of phone and identity numbers, and masking.

Identity numbers (CCCD, 12 digits, no check digit) are personal data: shown and exported only
masked (``0012******89``), never put in URLs or logs.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SEPARATORS = re.compile(r"[\s.\-()]")
# Mobile numbers have 10 digits, landlines 10–11 (0 + area code + number).
_PHONE = re.compile(r"^0\d{9,10}$")
_ID_NUMBER = re.compile(r"^\d{12}$")


def normalize_phone(value: str) -> str:
    """Drop spaces, dots and dashes; +84 / 84 becomes a leading 0. Empty stays empty."""
    phone = _SEPARATORS.sub("", value or "")
    if phone.startswith("+84"):
        phone = "0" + phone[3:]
    elif phone.startswith("84") and len(phone) in (11, 12):
        phone = "0" + phone[2:]
    return phone


def clean_phone(value: str) -> str:
    phone = normalize_phone(value)
    if phone and not _PHONE.match(phone):
        raise ValidationError(
            _("The phone number must have 10 or 11 digits and start with 0 (or +84)."), code="phone"
        )
    return phone


# Control, format (zero-width spaces, direction overrides), private-use and surrogate characters:
# invisible, or able to make a name read differently on screen than it is stored.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Co", "Cs"}


def clean_name(value: str) -> str:
    """A person's name as shown: hidden characters removed, spaces collapsed. A name made only of
    hidden characters becomes empty, which the callers refuse."""
    value = value or ""
    if not value.isprintable():  # else it holds none of them (an import checks 100,000 names)
        value = "".join(ch for ch in value if unicodedata.category(ch) not in _HIDDEN_CATEGORIES)
    return " ".join(value.split())


def clean_id_number(value: str) -> str:
    number = (value or "").replace(" ", "")
    if number and not _ID_NUMBER.match(number):
        raise ValidationError(_("The identity number (CCCD) must have exactly 12 digits."), code="id_number")
    return number


def mask_id_number(value: str) -> str:
    """``001234567889`` → ``0012******89``."""
    if not value:
        return ""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_phone(value: str) -> str:
    """``0912345678`` → ``0912***678``."""
    if not value:
        return ""
    if len(value) <= 6:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 7) + value[-3:]


# Citizens' numbers and the lookup secret. Shown masked only; an admin list may neither filter
# nor search on them — a filter answering "some rows" or "none" rebuilds a number digit by digit
# (``?applicant_id_number__startswith=0``, ``01``, … ≈ 120 requests for a CCCD).
PERSONAL_NUMBER_FIELDS = frozenset(
    {"applicant_phone", "applicant_id_number", "tracking_pin", "recipient_phone", "citizen_phone"}
)


def touches_personal_number(lookup: str) -> bool:
    return not PERSONAL_NUMBER_FIELDS.isdisjoint(lookup.split("__"))


class PersonalNumbersAdminMixin:
    """For every ModelAdmin of a model holding a personal number: lookups through such a field
    are refused (the admin answers 400), and search never reaches one."""

    def lookup_allowed(self, lookup, value, request=None):
        if touches_personal_number(lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        return [f for f in super().get_search_fields(request) if not touches_personal_number(f.lstrip("^=@"))]
