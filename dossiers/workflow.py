"""The dossier workflow: national status codes and the one table of allowed changes.

Every change locks the dossier row, checks the table (and, when the caller passes the version it
showed the user, that nobody changed the dossier meanwhile), bumps ``Dossier.version`` and
appends a DossierEvent. Timeliness (early, on time, late against the due date) is fixed when
processing ends; a dossier the citizen withdrew is left out.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communes.weekmarks import dossier_state, mark_dossiers
from core import transitions
from core.prepared import save_fields
from core.timezones import FUTURE_TOLERANCE, aware
from core.transactions import service
from dossiers import calendar, workdays
from dossiers.models import (
    Dossier,
    Extension,
    ReturnChannel,
    Status,
    SupplementRequest,
)
from dossiers.statuses import ACCEPTED_OPEN

# The furthest an apology may push the due date (form 04).
MAX_EXTENSION = timedelta(days=365)

# action: (statuses it is allowed from, status it leads to; None = status unchanged)
TRANSITIONS: dict[str, tuple[frozenset[int], int | None]] = {
    "accept": (frozenset({Status.REGISTERED}), Status.ACCEPTED),  # BCCI handover signed at the desk
    "refuse": (frozenset({Status.REGISTERED, Status.ACCEPTED}), Status.REFUSED),
    "start": (frozenset({Status.ACCEPTED}), Status.PROCESSING),
    "request_supplement": (frozenset({Status.ACCEPTED, Status.PROCESSING}), Status.SUPPLEMENT_REQUESTED),
    "complete_supplement": (frozenset({Status.SUPPLEMENT_REQUESTED}), Status.PROCESSING),
    "request_payment": (frozenset({Status.PROCESSING}), Status.FINANCIAL_OBLIGATION),
    "confirm_payment": (frozenset({Status.FINANCIAL_OBLIGATION}), Status.PROCESSING),
    "extend": (ACCEPTED_OPEN, None),  # Form 04, at most once
    "withdraw": (frozenset({Status.REGISTERED}) | ACCEPTED_OPEN, Status.WITHDRAWN),
    "stop": (ACCEPTED_OPEN, Status.STOPPED),
    "finish": (frozenset({Status.ACCEPTED, Status.PROCESSING}), Status.FINISHED),
    "return_result": (frozenset({Status.FINISHED}), Status.RETURNED),
}

ACTION_LABELS = {
    "accept": gettext_lazy("Accept the dossier"),
    "refuse": gettext_lazy("Refuse"),
    "start": gettext_lazy("Start processing"),
    "request_supplement": gettext_lazy("Request a supplement"),
    "complete_supplement": gettext_lazy("Supplement completed"),
    "request_payment": gettext_lazy("Request financial obligation"),
    "confirm_payment": gettext_lazy("Financial obligation fulfilled"),
    "extend": gettext_lazy("Extend (apology and new date)"),
    "withdraw": gettext_lazy("Citizen withdraws"),
    "stop": gettext_lazy("Stop processing"),
    "finish": gettext_lazy("Processing finished"),
    "return_result": gettext_lazy("Return the result"),
}


class TransitionNotAllowed(ValidationError):
    pass


class StaleDossier(ValidationError):
    """Someone changed the dossier after the form was shown."""

    def __init__(self):
        super().__init__(
            _(
                "Someone else changed this dossier while you were working on it. Your input is "
                "kept below: check the dossier's current state and submit again."
            ),
            code="stale",
        )


def allowed_actions(dossier: Dossier, *, today: date | None = None) -> list[str]:
    """Actions the table allows from the dossier's status (extension only while it still can)."""
    actions = [name for name, (sources, _to) in TRANSITIONS.items() if dossier.status in sources]
    if "extend" in actions and not can_extend(dossier, today=today):
        actions.remove("extend")
    return actions


def can_extend(dossier: Dossier, *, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    has_extension = Extension.objects.filter(dossier_id=dossier.pk).exists()
    return (
        dossier.status in ACCEPTED_OPEN
        and dossier.due_date is not None
        and not has_extension
        and (dossier.due_date - today).days >= 1
    )


def _now_or(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    at = aware(at)
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"at": _("The time cannot be in the future.")}, code="future")
    return at


def locked_query():
    """Dossiers read for a change, as the steps below read them: with their procedure, the
    dossier's row locked until the transaction ends. A caller that already holds the dossier from
    this query in its transaction passes ``locked=True`` to a step that takes it, which then does
    not read it again."""
    return Dossier.objects.select_related("procedure").select_for_update(of=("self",))


def _lock(dossier: Dossier, action: str, expected_version: int | None, *, locked: bool = False) -> Dossier:
    if locked:
        if expected_version is not None and dossier.version != expected_version:
            raise StaleDossier()
        locked = dossier
    else:
        locked = transitions.lock(
            locked_query(), dossier.pk, of=("self",), expected_version=expected_version, stale=StaleDossier
        )
    sources, _to = TRANSITIONS[action]
    if locked.status not in sources:
        raise TransitionNotAllowed(
            _("“%(action)s” is not allowed for a dossier with status “%(status)s”.")
            % {"action": ACTION_LABELS[action], "status": locked.get_status_display()},
            code="not_allowed",
        )
    # The weeks the dossier counts in before the change: _save marks them with the new ones.
    locked.weeks_before = dossier_state(locked)
    return locked


def _not_before_receipt(dossier: Dossier, at: datetime) -> None:
    if dossier.received_at and at < dossier.received_at:
        raise ValidationError(
            {"at": _("The time cannot be before the dossier was received.")}, code="before_receipt"
        )


def _save(
    dossier: Dossier, *, by, action: str, event: str, at: datetime, details: dict, fields: list[str]
) -> Dossier:
    _sources, to_status = TRANSITIONS[action]
    # The row is locked (select_for_update), so the version increment cannot be lost.
    transitions.move(dossier, to_status, by=by, action=event, at=at, details=details)
    status = ["status"] if to_status is not None else []
    save_fields(dossier, [*dict.fromkeys(fields), *status, "version", "updated_at"])
    mark_dossiers([getattr(dossier, "weeks_before", {}), dossier])
    return dossier


def _end_processing(dossier: Dossier, at: datetime) -> list[str]:
    dossier.finished_at = at
    dossier.timeliness = (
        workdays.timeliness(workdays.local_date(at), dossier.due_date) if dossier.due_date else ""
    )
    return ["finished_at", "timeliness"]


def _due_details(dossier: Dossier) -> dict:
    return {"due_date": dossier.due_date.isoformat() if dossier.due_date else None}


@transaction.atomic
def accept(*, dossier: Dossier, by, at: datetime, expected_version: int | None = None) -> Dossier:
    """A dossier received by post reaches the desk: the handover signature time ``at`` is the
    legal submission time; the deadline counts from it."""
    at = _now_or(at)
    dossier = _lock(dossier, "accept", expected_version)
    dossier.received_at = at
    dossier.due_date = dossier.original_due_date = workdays.due_date(
        at, dossier.procedure.processing_days, province=calendar.province_of(dossier.receiving_unit)
    )
    return _save(
        dossier,
        by=by,
        action="accept",
        event="dossier.submitted_by_post",
        at=at,
        details=_due_details(dossier),
        fields=["received_at", "due_date", "original_due_date"],
    )


@transaction.atomic
def refuse(
    *, dossier: Dossier, by, reason: str, at: datetime | None = None, expected_version: int | None = None
) -> Dossier:
    """Form 03: the dossier is not accepted, with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for refusing the dossier.")})
    at = _now_or(at)
    dossier = _lock(dossier, "refuse", expected_version)
    fields = []
    if dossier.received_at is None:
        dossier.received_at = at
        fields.append("received_at")
    _not_before_receipt(dossier, at)
    fields += _end_processing(dossier, at)
    return _save(
        dossier,
        by=by,
        action="refuse",
        event="dossier.refused",
        at=at,
        details={"reason": reason},
        fields=fields,
    )


@transaction.atomic
def start_processing(*, dossier: Dossier, by, expected_version: int | None = None) -> Dossier:
    at = timezone.now()
    dossier = _lock(dossier, "start", expected_version)
    return _save(
        dossier, by=by, action="start", event="dossier.processing_started", at=at, details={}, fields=[]
    )


@transaction.atomic
def request_supplement(
    *, dossier: Dossier, by, items: str, at: datetime | None = None, expected_version: int | None = None
) -> Dossier:
    """Form 02: ask the citizen to complete the dossier; the deadline restarts on completion."""
    items = (items or "").strip()
    if not items:
        raise ValidationError({"items": _("List the documents the citizen must supplement.")})
    at = _now_or(at)
    dossier = _lock(dossier, "request_supplement", expected_version)
    _not_before_receipt(dossier, at)
    request = SupplementRequest.objects.create(dossier=dossier, requested_at=at, requested_by=by, items=items)
    return _save(
        dossier,
        by=by,
        action="request_supplement",
        event="dossier.supplement_requested",
        at=at,
        details={"supplement_request": request.pk, "items": items},
        fields=[],
    )


@transaction.atomic
def complete_supplement(
    *, dossier: Dossier, by, at: datetime | None = None, note: str = "", expected_version: int | None = None
) -> Dossier:
    """The citizen completed the dossier: the full processing time counts again from ``at``
    (the waiting time does not count)."""
    at = _now_or(at)
    dossier = _lock(dossier, "complete_supplement", expected_version)
    request = dossier.supplement_requests.filter(completed_at__isnull=True).order_by("-requested_at").first()
    if request is not None:
        if at < request.requested_at:
            raise ValidationError({"at": _("The supplement cannot be completed before it was requested.")})
        request.completed_at, request.completed_by = at, by
        request.save(update_fields=["completed_at", "completed_by"])
    previous = dossier.due_date
    restarted = workdays.due_date(
        at, dossier.procedure.processing_days, province=calendar.province_of(dossier.receiving_unit)
    )
    dossier.due_date = max(restarted, dossier.original_due_date or restarted)
    return _save(
        dossier,
        by=by,
        action="complete_supplement",
        event="dossier.supplement_completed",
        at=at,
        details={
            "previous_due_date": previous.isoformat() if previous else None,
            **_due_details(dossier),
            **({"note": note.strip()} if note.strip() else {}),
        },
        fields=["due_date"],
    )


@transaction.atomic
def request_payment(
    *, dossier: Dossier, by, amount: int, note: str = "", expected_version: int | None = None
) -> Dossier:
    """Ask the citizen to fulfil a financial obligation (fees, land levy…)."""
    if amount is None or int(amount) <= 0:
        raise ValidationError({"amount": _("Enter the amount to pay, in VND.")})
    at = timezone.now()
    dossier = _lock(dossier, "request_payment", expected_version)
    return _save(
        dossier,
        by=by,
        action="request_payment",
        event="dossier.payment_requested",
        at=at,
        details={"amount": int(amount), "note": note.strip()},
        fields=[],
    )


@transaction.atomic
def confirm_payment(*, dossier: Dossier, by, note: str = "", expected_version: int | None = None) -> Dossier:
    at = timezone.now()
    dossier = _lock(dossier, "confirm_payment", expected_version)
    return _save(
        dossier,
        by=by,
        action="confirm_payment",
        event="dossier.payment_confirmed",
        at=at,
        details={"note": note.strip()} if note.strip() else {},
        fields=[],
    )


@transaction.atomic
def extend(
    *,
    dossier: Dossier,
    by,
    reason: str,
    new_due_date: date,
    at: datetime | None = None,
    expected_version: int | None = None,
) -> Dossier:
    """Form 04: apologise and set a new date — once per dossier, at least one day before the
    due date, with a reason; the new date is a later working day."""
    reason = (reason or "").strip()
    at = _now_or(at)
    dossier = _lock(dossier, "extend", expected_version)
    errors: dict[str, list[str]] = {}
    if not reason:
        errors.setdefault("reason", []).append(_("Give the reason for the delay."))
    if Extension.objects.filter(dossier=dossier).exists():
        raise TransitionNotAllowed(_("This dossier has already been extended once."), code="second_extension")
    if dossier.due_date is None or (dossier.due_date - workdays.local_date(at)).days < 1:
        raise TransitionNotAllowed(
            _("An extension must be issued at least one day before the due date."), code="too_late"
        )
    if new_due_date is None or new_due_date <= dossier.due_date:
        errors.setdefault("new_due_date", []).append(_("The new date must be after the current due date."))
    elif new_due_date > dossier.due_date + MAX_EXTENSION:
        # An apology promises a date the citizen can plan for; a date years away is a typing
        # mistake, and every page that counts working days up to it would pay for it.
        errors.setdefault("new_due_date", []).append(
            _("The new date must be within a year of the current due date.")
        )
    elif not workdays.is_working_day(new_due_date, province=calendar.province_of(dossier.receiving_unit)):
        errors.setdefault("new_due_date", []).append(_("The new date must be a working day."))
    if errors:
        raise ValidationError(errors)
    previous = dossier.due_date
    Extension.objects.create(
        dossier=dossier,
        issued_at=at,
        issued_by=by,
        reason=reason,
        previous_due_date=previous,
        new_due_date=new_due_date,
    )
    dossier.due_date = new_due_date
    return _save(
        dossier,
        by=by,
        action="extend",
        event="dossier.extended",
        at=at,
        details={
            "previous_due_date": previous.isoformat(),
            "due_date": new_due_date.isoformat(),
            "reason": reason,
        },
        fields=["due_date"],
    )


@transaction.atomic
def withdraw(
    *, dossier: Dossier, by, reason: str = "", at: datetime | None = None, expected_version: int | None = None
) -> Dossier:
    """The citizen withdraws the dossier; it is left out of timeliness."""
    at = _now_or(at)
    dossier = _lock(dossier, "withdraw", expected_version)
    fields: list[str] = []
    if dossier.received_at is not None:
        _not_before_receipt(dossier, at)
        dossier.finished_at, dossier.timeliness = at, ""
        fields = ["finished_at", "timeliness"]
    return _save(
        dossier,
        by=by,
        action="withdraw",
        event="dossier.withdrawn",
        at=at,
        details={"reason": reason.strip()} if reason.strip() else {},
        fields=fields,
    )


@transaction.atomic
def stop(
    *, dossier: Dossier, by, reason: str, at: datetime | None = None, expected_version: int | None = None
) -> Dossier:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for stopping processing.")})
    at = _now_or(at)
    dossier = _lock(dossier, "stop", expected_version)
    _not_before_receipt(dossier, at)
    fields = _end_processing(dossier, at)
    return _save(
        dossier,
        by=by,
        action="stop",
        event="dossier.stopped",
        at=at,
        details={"reason": reason},
        fields=fields,
    )


@transaction.atomic
def finish(
    *, dossier: Dossier, by, at: datetime | None = None, note: str = "", expected_version: int | None = None
) -> Dossier:
    """Processing is finished (status 9): timeliness is decided now."""
    at = _now_or(at)
    dossier = _lock(dossier, "finish", expected_version)
    _not_before_receipt(dossier, at)
    fields = _end_processing(dossier, at)
    return _save(
        dossier,
        by=by,
        action="finish",
        event="dossier.finished",
        at=at,
        details={"timeliness": dossier.timeliness, **({"note": note.strip()} if note.strip() else {})},
        fields=fields,
    )


@service
def return_result(
    *,
    dossier: Dossier,
    by,
    channel: str,
    at: datetime | None = None,
    expected_version: int | None = None,
    locked: bool = False,
) -> Dossier:
    """The result reaches the citizen (9 → 10): at the desk, online, or by post (BCCI, called by
    the postal app when the item is delivered). ``locked``: see ``locked_query``."""
    if channel not in ReturnChannel.values:
        raise ValidationError({"channel": _("Choose how the result was returned.")})
    at = _now_or(at)
    dossier = _lock(dossier, "return_result", expected_version, locked=locked)
    _not_before_receipt(dossier, at)
    if dossier.finished_at and at < dossier.finished_at:
        raise ValidationError({"at": _("The result cannot be returned before processing finished.")})
    fields = ["returned_at", "return_channel"]
    previous_channel = dossier.return_channel
    dossier.returned_at = at
    dossier.return_channel = channel
    if channel == ReturnChannel.BCCI and dossier.decline_reason:
        dossier.decline_reason, dossier.decline_note = "", ""
        fields += ["decline_reason", "decline_note"]
    return _save(
        dossier,
        by=by,
        action="return_result",
        event="dossier.returned",
        at=at,
        details={"channel": channel, "requested_channel": previous_channel},
        fields=fields,
    )
