"""Correcting a dossier after it was saved: the applicant's details, the address and how the
result is returned.

One service, ``update_dossier``: it locks the row, refuses a stale form (the version the official
saw), checks the same rules as the intake (``services.delivery_contact_errors`` for postal
return, a decline reason otherwise) and appends one ``dossier.edited`` event listing every
changed field with its value before and after — phone and identity numbers masked, as on every
screen.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.events import append_event
from dossiers import statuses
from dossiers.models import DeclineReason, Dossier, ReturnChannel, Status
from dossiers.personal import mask_id_number, mask_phone
from dossiers.services import RETURN_CHANNELS, _check_return_choice, clean_applicant
from dossiers.workflow import StaleDossier

# Until the result is handed over the desk may still correct the dossier; a finished dossier
# only while its result has not gone to the post (the item then carries the address).
EDITABLE_STATUSES = frozenset({*statuses.OPEN, Status.FINISHED})

EDITABLE_FIELDS = (
    "applicant_name",
    "applicant_phone",
    "applicant_address",
    "applicant_id_number",
    "return_channel",
    "decline_reason",
    "decline_note",
)

# How a changed field is written into the history: personal numbers masked, codes in words
# are rendered by the page from the stored code.
_MASKS = {"applicant_phone": mask_phone, "applicant_id_number": mask_id_number}

FIELD_LABELS = {
    "applicant_name": gettext_lazy("Applicant"),
    "applicant_phone": gettext_lazy("Phone"),
    "applicant_address": gettext_lazy("Address"),
    "applicant_id_number": gettext_lazy("Identity number"),
    "return_channel": gettext_lazy("How the result is returned"),
    "decline_reason": gettext_lazy("Why not by post?"),
    "decline_note": gettext_lazy("Other reason"),
}


# Checks that apps above this one register (in their AppConfig.ready): each says whether the
# dossier's details are in use elsewhere — the postal app's when an item carries the result
# with the address it was given.
_in_use_checks: list[Callable[[Dossier], bool]] = []


def register_in_use_check(check: Callable[[Dossier], bool]) -> None:
    if check not in _in_use_checks:
        _in_use_checks.append(check)


def can_edit(dossier: Dossier) -> bool:
    return dossier.status in EDITABLE_STATUSES and not any(check(dossier) for check in _in_use_checks)


def shown_value(field: str, value: str) -> str:
    return _MASKS.get(field, str)(value or "")


@transaction.atomic
def update_dossier(
    *,
    dossier: Dossier,
    by,
    expected_version: int | None,
    applicant_name: str,
    applicant_phone: str = "",
    applicant_address: str = "",
    applicant_id_number: str = "",
    return_channel: str,
    decline_reason: str = "",
    decline_note: str = "",
) -> Dossier:
    """Save corrections to an open (or processed, not yet posted) dossier; one event with the
    changes. Nothing changed: nothing written. Bad input: ValidationError by field."""
    locked = Dossier.objects.select_for_update().select_related("procedure").get(pk=dossier.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleDossier()
    if not can_edit(locked):
        raise ValidationError(
            _("A dossier with status “%(status)s” can no longer be corrected.")
            % {"status": locked.get_status_display()},
            code="not_editable",
        )
    errors: dict[str, list] = {}

    def add(field_name: str, error) -> None:
        if isinstance(error, ValidationError):
            errors.setdefault(field_name, []).extend(error.messages)
        else:
            errors.setdefault(field_name, []).append(error)

    applicant_name, applicant_phone, applicant_address, applicant_id_number = clean_applicant(
        applicant_name=applicant_name,
        applicant_phone=applicant_phone,
        applicant_address=applicant_address,
        applicant_id_number=applicant_id_number,
        add=add,
    )
    if return_channel not in RETURN_CHANNELS:
        add("return_channel", _("Choose how the result will be returned."))
    elif return_channel == ReturnChannel.BCCI and not locked.procedure.bcci_return_allowed:
        add("return_channel", _("The result of this procedure cannot be returned by post."))
    decline_reason, decline_note = _check_return_choice(
        return_channel=return_channel,
        decline_reason=decline_reason,
        decline_note=decline_note,
        applicant_address=applicant_address,
        applicant_phone=applicant_phone if "applicant_phone" not in errors else "?",
        add=add,
    )
    if errors:
        raise ValidationError(errors)

    new_values = {
        "applicant_name": applicant_name,
        "applicant_phone": applicant_phone,
        "applicant_address": applicant_address,
        "applicant_id_number": applicant_id_number,
        "return_channel": return_channel,
        "decline_reason": decline_reason if decline_reason in DeclineReason.values else "",
        "decline_note": decline_note,
    }
    changes = {}
    for field, value in new_values.items():
        before = getattr(locked, field)
        if before != value:
            changes[field] = {"before": shown_value(field, before), "after": shown_value(field, value)}
            setattr(locked, field, value)
    if not changes:
        return locked
    locked.version += 1
    locked.save(update_fields=[*changes, "version", "updated_at"])
    append_event(locked, by=by, action="dossier.edited", details={"changes": changes})
    return locked


def describe_changes(details: dict) -> list[tuple[str, str, str]]:
    """(field, before, after) of a ``dossier.edited`` event, in words for the history."""
    words = {
        "return_channel": dict(ReturnChannel.choices),
        "decline_reason": dict(DeclineReason.choices),
    }
    rows = []
    for field, change in (details.get("changes") or {}).items():
        names = words.get(field, {})
        before, after = change.get("before", ""), change.get("after", "")
        rows.append(
            (
                str(FIELD_LABELS.get(field, field)),
                str(names.get(before, before)) or "—",
                str(names.get(after, after)) or "—",
            )
        )
    return rows
