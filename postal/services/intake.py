"""BCCI intake (Decision 45/2016): postal staff receive a dossier at a BĐVHX or at home."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import POSTAL, acts_as
from communes import scoping
from communes.models import AdministrativeUnit
from core.events import append_event
from dossiers import services as dossier_services
from dossiers.models import IntakeChannel, Procedure, ReturnChannel
from postal import s10
from postal.models import (
    Direction,
    ItemStatus,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
)
from postal.services.items import (
    _check_amount,
    issue_code,
)

# --- BCCI intake ---------------------------------------------------------------------------


def _transferred(unit: AdministrativeUnit, procedure: Procedure) -> bool:
    return TaskTransfer.objects.filter(
        unit=unit, field_id=procedure.field_id, task=TaskTransfer.Task.INTAKE, status=TaskTransfer.Status.DONE
    ).exists()


@transaction.atomic
def receive_bcci_dossier(
    *,
    by: User,
    receiving_unit: AdministrativeUnit,
    procedure: Procedure,
    applicant_name: str,
    documents: list[dict],
    applicant_phone: str = "",
    applicant_address: str = "",
    applicant_id_number: str = "",
    return_channel: str = ReturnChannel.BCCI,
    decline_reason: str = "",
    decline_note: str = "",
    postage: int = 0,
    fees_collected: int = 0,
    appointment: PickupAppointment | None = None,
) -> PostalItem:
    """Postal staff receive a dossier at a BĐVHX or at home (Decision 45/2016): the dossier is
    created with intake channel BCCI and stays "newly registered" until the handover to the desk
    is signed; the item travels with it."""
    if not acts_as(by, POSTAL) or not by.post_office_id:
        raise ValidationError(_("Only postal staff receive dossiers by post."))
    if receiving_unit.pk not in (scoping.unit_ids(by) or set()):
        raise ValidationError(_("Your post office does not serve this commune."))
    if not procedure.bcci_intake_allowed:
        raise ValidationError(_("This procedure cannot be received by post."))
    if not (applicant_name or "").strip():
        raise ValidationError(_("Enter the applicant's name."))
    if not documents:
        raise ValidationError(_("List at least one document handed in."))
    postage = _check_amount(postage, _("Postage"))
    fees_collected = _check_amount(fees_collected, _("Fees collected"))
    if appointment is not None:
        appointment = PickupAppointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status != PickupAppointment.Status.BOOKED:
            raise ValidationError(_("This appointment is no longer open."))
    dossier = dossier_services.create_dossier(
        by=by,
        receiving_unit=receiving_unit,
        intake=dossier_services.Intake(
            procedure=procedure,
            applicant_name=applicant_name.strip(),
            applicant_phone=applicant_phone,
            applicant_address=applicant_address,
            applicant_id_number=applicant_id_number,
            intake_channel=IntakeChannel.BCCI,
            return_channel=return_channel,
            decline_reason=decline_reason,
            decline_note=decline_note,
            documents=documents,
            received_at=None,
            received_by_post=_transferred(receiving_unit, procedure),
        ),
    )
    office = by.post_office
    item = PostalItem.objects.create(
        code=issue_code(post_office=office, service=s10.INTAKE_SERVICE),
        dossier=dossier,
        direction=Direction.INTAKE,
        post_office=office,
        status=ItemStatus.ACCEPTED,
        postage=postage,
        fees_collected=fees_collected,
        recipient_address=receiving_unit.name,
        created_by=by,
    )
    append_event(
        item,
        by=by,
        action="item.intake_received",
        to_status=ItemStatus.ACCEPTED,
        details={"documents": len(documents)},
    )
    if appointment is not None:
        appointment.status = PickupAppointment.Status.DONE
        appointment.dossier = dossier
        appointment.save(update_fields=["status", "dossier"])
    return item
