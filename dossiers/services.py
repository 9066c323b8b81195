"""Writes to dossiers: intake (validate and log with an ``Intake``) and dossier codes.

Status changes after intake live in ``dossiers/workflow.py`` (one transition table);
``record_legal_submission`` and ``return_result`` are re-exported here because other apps (the
postal app) call them as part of the dossiers contract.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communes.models import AdministrativeUnit
from communes.weekmarks import mark_dossiers
from core.events import append_event
from core.timezones import FUTURE_TOLERANCE, aware
from dossiers import calendar, workdays, workflow
from dossiers.codes import format_code
from dossiers.models import (
    DeclineReason,
    Dossier,
    DossierCodeSequence,
    DossierDocument,
    IntakeChannel,
    Procedure,
    ReturnChannel,
    Status,
)
from dossiers.personal import clean_id_number, clean_phone

logger = logging.getLogger(__name__)

MAX_DOCUMENT_COUNT = 99

# The choices' values as sets, built once: ``Choices.values`` builds a new list on every access,
# and validate_intake runs once per row of an import.
RETURN_CHANNELS = frozenset(ReturnChannel.values)
DECLINE_REASONS = frozenset(DeclineReason.values)
DOCUMENT_FORMS = frozenset(DossierDocument.Form.values)


# --- codes -----------------------------------------------------------------------------------


def next_dossier_code(*, unit: AdministrativeUnit, day: date) -> str:
    """The next code of ``unit`` for ``day``: ``<prefix>-<YYMMDD>-<NNNN>``.

    One atomic upsert on the (unit, day) row: concurrent intakes queue on that row's lock and
    each gets its own number; a number is never handed out twice. Call it inside the
    transaction that saves the dossier, so a rolled-back intake does not burn a number.
    """
    table = connection.ops.quote_name(DossierCodeSequence._meta.db_table)
    sql = (
        f"INSERT INTO {table} (unit_id, day, last_number) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (unit_id, day) DO UPDATE SET last_number = {table}.last_number + 1 "
        "RETURNING last_number"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [unit.pk, day])
            number = cursor.fetchone()[0]
            code = format_code(unit.dossier_prefix, day, number)
            # Imported codes bump the sequence, but a code taken some other way is skipped
            # rather than failing the intake.
            if not Dossier.objects.filter(code=code).exists():
                return code


def new_tracking_pin() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# --- intake ----------------------------------------------------------------------------------


@dataclass
class Intake:
    """What the desk (or the post, or an import row) records when a dossier is handed in.

    ``validate_intake`` returns a cleaned copy; ``create_dossier`` validates and saves one.
    """

    procedure: Procedure | None
    applicant_name: str
    intake_channel: int
    return_channel: str
    applicant_phone: str = ""
    applicant_address: str = ""
    applicant_id_number: str = ""
    decline_reason: str = ""
    decline_note: str = ""
    documents: list[dict] = field(default_factory=list)
    received_at: datetime | None = None
    received_by_post: bool = False

    @property
    def status(self) -> int:
        return Status.REGISTERED if self.received_at is None else Status.ACCEPTED

    @property
    def due_date(self) -> date | None:
        if self.received_at is None:
            return None
        return workdays.due_date(self.received_at, self.procedure.processing_days)


# One-stop desks keep no dossiers older than this; an earlier date is a typing error (and a year
# like 0001 would overflow when converted to UTC).
EARLIEST_RECEIVED = datetime(2000, 1, 1, tzinfo=workdays.TZ)


def validate_received_at(received_at: datetime, *, now: datetime | None = None) -> datetime:
    received_at = aware(received_at)
    if received_at < EARLIEST_RECEIVED:
        raise ValidationError(
            {"received_at": _("The received date must be in the year 2000 or later.")}, code="too_old"
        )
    if received_at > (now or timezone.now()) + FUTURE_TOLERANCE:
        raise ValidationError({"received_at": _("The received date cannot be in the future.")}, code="future")
    return received_at


def clean_documents(documents: Iterable[dict]) -> list[dict]:
    """Validate the documents handed in; messages name the line (1-based)."""
    cleaned: list[dict] = []
    errors: list[str] = []
    for index, doc in enumerate(documents or (), start=1):
        name = str(doc.get("name") or "").strip()
        form = str(doc.get("form") or DossierDocument.Form.COPY)
        try:
            count = int(doc.get("count") if doc.get("count") not in (None, "") else 1)
        except (TypeError, ValueError):
            count = 0
        if not name:
            errors.append(_("Document %(n)d: the name is missing.") % {"n": index})
        elif len(name) > 300:
            errors.append(_("Document %(n)d: the name is longer than 300 characters.") % {"n": index})
        if form not in DOCUMENT_FORMS:
            errors.append(_("Document %(n)d: choose original, certified copy or copy.") % {"n": index})
        if not 1 <= count <= MAX_DOCUMENT_COUNT:
            errors.append(
                _("Document %(n)d: the number of copies must be between 1 and %(max)d.")
                % {"n": index, "max": MAX_DOCUMENT_COUNT}
            )
        cleaned.append({"name": name, "form": form, "count": count})
    if errors:
        raise ValidationError({"documents": errors})
    return cleaned


def validate_intake(intake: Intake, *, now: datetime | None = None) -> Intake:
    """Check an intake and return it cleaned; ValidationError (by field, in Vietnamese) otherwise.

    A BCCI intake without ``received_at`` is only registered (status 1) until the handover to
    the desk is signed; any other intake is accepted at ``received_at`` (default: now).
    """
    procedure = intake.procedure
    applicant_name = intake.applicant_name
    applicant_phone = intake.applicant_phone
    applicant_address = intake.applicant_address
    applicant_id_number = intake.applicant_id_number
    intake_channel = intake.intake_channel
    return_channel = intake.return_channel
    decline_reason = intake.decline_reason
    decline_note = intake.decline_note
    documents = intake.documents
    received_at = intake.received_at
    errors: dict[str, list] = {}

    def add(field_name: str, error) -> None:
        if isinstance(error, ValidationError):
            if hasattr(error, "error_dict"):
                for key, messages in error.message_dict.items():
                    errors.setdefault(key, []).extend(messages)
                return
            errors.setdefault(field_name, []).extend(error.messages)
        else:
            errors.setdefault(field_name, []).append(error)

    if not isinstance(procedure, Procedure) or not procedure.active:
        add("procedure", _("Choose a procedure from the catalogue."))
        procedure = None

    applicant_name = " ".join((applicant_name or "").split())
    if not applicant_name:
        add("applicant_name", _("Enter the applicant's name."))
    elif len(applicant_name) > 150:
        add("applicant_name", _("The name is longer than 150 characters."))
    applicant_address = " ".join((applicant_address or "").split())
    if len(applicant_address) > 300:
        add("applicant_address", _("The address is longer than 300 characters."))
    try:
        applicant_phone = clean_phone(applicant_phone)
    except ValidationError as exc:
        add("applicant_phone", exc)
    try:
        applicant_id_number = clean_id_number(applicant_id_number)
    except ValidationError as exc:
        add("applicant_id_number", exc)

    try:
        intake_channel = IntakeChannel(int(intake_channel))
    except (TypeError, ValueError):
        add("intake_channel", _("Choose how the dossier was received."))
    if return_channel not in RETURN_CHANNELS:
        add("return_channel", _("Choose how the result will be returned."))

    if procedure is not None:
        if intake_channel == IntakeChannel.BCCI and not procedure.bcci_intake_allowed:
            add("intake_channel", _("This procedure cannot be submitted by post."))
        if intake_channel == IntakeChannel.BCCI and procedure.presence_required:
            add("intake_channel", _("The applicant must come in person for this procedure."))
        if return_channel == ReturnChannel.BCCI and not procedure.bcci_return_allowed:
            add("return_channel", _("The result of this procedure cannot be returned by post."))

    decline_note = " ".join((decline_note or "").split())
    if return_channel == ReturnChannel.BCCI:
        decline_reason, decline_note = "", ""
    elif return_channel in RETURN_CHANNELS:
        if decline_reason not in DECLINE_REASONS:
            add("decline_reason", _("Record why the citizen did not choose to receive the result by post."))
        elif decline_reason == DeclineReason.OTHER and not decline_note:
            add("decline_note", _("Describe the other reason."))
    if len(decline_note) > 300:
        add("decline_note", _("The note is longer than 300 characters."))

    if received_at is not None:
        try:
            received_at = validate_received_at(received_at, now=now)
        except ValidationError as exc:
            add("received_at", exc)
    elif intake_channel != IntakeChannel.BCCI:
        received_at = now or timezone.now()

    try:
        documents = clean_documents(documents)
    except ValidationError as exc:
        add("documents", exc)

    if errors:
        raise ValidationError(errors)
    return Intake(
        procedure=procedure,
        applicant_name=applicant_name,
        applicant_phone=applicant_phone,
        applicant_address=applicant_address,
        applicant_id_number=applicant_id_number,
        intake_channel=int(intake_channel),
        return_channel=return_channel,
        decline_reason=decline_reason,
        decline_note=decline_note,
        documents=list(documents),
        received_at=received_at,
        received_by_post=bool(intake.received_by_post),
    )


@transaction.atomic
def create_dossier(*, by, receiving_unit: AdministrativeUnit, intake: Intake) -> Dossier:
    """Log a dossier: validate, give it a code and lookup PIN, save its documents and append
    ``dossier.registered`` (BCCI intake awaiting the handover) or ``dossier.accepted``.

    When the return channel is not BCCI, ``decline_reason`` (a ``DeclineReason``) is required,
    with ``decline_note`` for "other".
    """
    intake = validate_intake(intake)
    if receiving_unit is None or receiving_unit.level != AdministrativeUnit.Level.COMMUNE:
        raise ValidationError({"receiving_unit": _("Dossiers are received by a commune's one-stop desk.")})
    code_day = workdays.local_date(intake.received_at or timezone.now())
    due = (
        workdays.due_date(
            intake.received_at,
            intake.procedure.processing_days,
            province=calendar.province_of(receiving_unit),
        )
        if intake.received_at is not None
        else None
    )
    dossier = Dossier.objects.create(
        code=next_dossier_code(unit=receiving_unit, day=code_day),
        procedure=intake.procedure,
        receiving_unit=receiving_unit,
        applicant_name=intake.applicant_name,
        applicant_phone=intake.applicant_phone,
        applicant_address=intake.applicant_address,
        applicant_id_number=intake.applicant_id_number,
        tracking_pin=new_tracking_pin(),
        intake_channel=intake.intake_channel,
        return_channel=intake.return_channel,
        decline_reason=intake.decline_reason,
        decline_note=intake.decline_note,
        received_by_post=intake.received_by_post,
        status=intake.status,
        received_at=intake.received_at,
        due_date=due,
        original_due_date=due,
        created_by=by if getattr(by, "pk", None) else None,
    )
    DossierDocument.objects.bulk_create(DossierDocument(dossier=dossier, **doc) for doc in intake.documents)
    mark_dossiers([dossier])
    append_event(
        dossier,
        by=by,
        action="dossier.accepted" if dossier.status == Status.ACCEPTED else "dossier.registered",
        to_status=dossier.status,
        at=intake.received_at,
        details={
            "code": dossier.code,
            "intake_channel": dossier.intake_channel,
            "return_channel": dossier.return_channel,
            "due_date": due.isoformat() if due else None,
            "documents": len(intake.documents),
        },
    )
    # Codes and ids only: never applicants' identity data in logs.
    logger.info("dossier %s logged at unit %s", dossier.code, receiving_unit.pk)
    return dossier


# --- contract re-exports -----------------------------------------------------------------------
# Other apps (postal) call these two workflow steps as part of the dossiers contract:
# ``record_legal_submission`` — the handover signature time becomes the legal submission time of
# a BCCI intake (1 → 2); ``return_result`` — the result reaches the citizen (9 → 10).
record_legal_submission = workflow.accept
return_result = workflow.return_result
