"""Database-safe bounds for what users and files send, in one place.

PostgreSQL stores dates from 4713 BC and integers up to 2^31 − 1; Python's ``date`` stops at
year 9999 and the driver cannot read BC timestamps back. A value outside the bounds below is a
typing mistake or an attack, never a real dossier, appointment or amount: forms refuse it with a
message (``BoundedForm``), services refuse it with ``ValidationError`` (``check_date`` …), and the
views that read query parameters by hand use ``core.params``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
# Amounts (postage, fees), counts and ids typed by users: PostgreSQL's integer.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1  # ids (BigAutoField)
MAX_MONEY = 10**12  # VND; no single fee comes near a thousand billion dong

DATE_MESSAGE = _("Enter a date between %(min)s and %(max)s.")


def in_bounds(value: date | datetime | None) -> bool:
    if value is None:
        return True
    day = value.date() if isinstance(value, datetime) else value
    return MIN_DATE <= day <= MAX_DATE


def validate_date(value: date | datetime | None) -> None:
    if not in_bounds(value):
        raise ValidationError(
            DATE_MESSAGE,
            code="date_out_of_bounds",
            params={"min": MIN_DATE.strftime("%d/%m/%Y"), "max": MAX_DATE.strftime("%d/%m/%Y")},
        )


def check_date(**values: date | datetime | None) -> None:
    """For services: ``check_date(slot_start=…, slot_end=…)`` raises on the first value out of
    bounds, naming the field."""
    errors = {}
    for name, value in values.items():
        try:
            validate_date(value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)


def check_amount(**values: int | Decimal | None) -> None:
    """For services: amounts within 0 … MAX_INT."""
    errors = {
        name: [_("Enter an amount between 0 and %(max)s.") % {"max": f"{MAX_INT:,}"}]
        for name, value in values.items()
        if value is not None and not (0 <= value <= MAX_INT)
    }
    if errors:
        raise ValidationError(errors)


def bound_fields(form: forms.BaseForm) -> None:
    """Give every date, date-time and number field of ``form`` the bounds above (unless the field
    already has tighter ones)."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField | forms.DateTimeField):
            if validate_date not in field.validators:
                field.validators.append(validate_date)
        elif isinstance(field, forms.ModelChoiceField):
            _guard_choice(field)
        elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            limit = MAX_MONEY if isinstance(field, forms.DecimalField) else MAX_INT
            if field.max_value is None or field.max_value > limit:
                field.max_value = limit
                field.validators.append(MaxValueValidator(limit))
                field.widget.attrs.setdefault("max", limit)
            if field.min_value is None or field.min_value < -limit:
                field.min_value = -limit
                field.validators.append(MinValueValidator(-limit))


_INTEGER_LIMITS = {
    "AutoField": MAX_INT,
    "IntegerField": MAX_INT,
    "PositiveIntegerField": MAX_INT,
    "SmallAutoField": 2**15 - 1,
    "BigAutoField": MAX_BIGINT,
    "BigIntegerField": MAX_BIGINT,
}


def _guard_choice(field: forms.ModelChoiceField) -> None:
    """A choice of a row by an integer key: a value that is not such an integer within the
    column's range is an invalid choice before the database is asked (which would fail on it)."""
    if getattr(field, "_bounded", False) or field.queryset is None:
        return
    meta = field.queryset.model._meta
    key = meta.pk if not field.to_field_name else meta.get_field(field.to_field_name)
    limit = _INTEGER_LIMITS.get(key.get_internal_type())
    if limit is None:
        return

    def fits(value) -> bool:
        text = str(value).strip()
        digits = text[1:] if text.startswith("-") else text
        return text.isascii() and digits.isdigit() and abs(int(text)) <= limit

    def refuse(value):
        raise ValidationError(
            field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )

    if isinstance(field, forms.ModelMultipleChoiceField):
        check_values = field._check_values

        def checked(values):
            for value in values:
                if not fits(value):
                    refuse(value)
            return check_values(values)

        field._check_values = checked
    else:
        to_python = field.to_python

        def converted(value):
            if value not in field.empty_values and not isinstance(value, Model) and not fits(value):
                refuse(value)
            return to_python(value)

        field.to_python = converted
    field._bounded = True


class BoundedForm(forms.Form):
    """A form whose dates and numbers stay within what the database and the driver hold."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        bound_fields(self)

    def full_clean(self):
        bound_fields(self)  # again: subclasses add fields after __init__ (dossiers.forms.ActionForm)
        super().full_clean()
