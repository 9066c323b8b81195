"""Pickup appointments (hẹn giờ): a citizen asks postal staff to come and receive a dossier."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from communes import scoping
from communes.models import AdministrativeUnit, PostOffice
from dossiers.models import Procedure
from postal.models import (
    PickupAppointment,
)

# --- pickup appointments -------------------------------------------------------------------


@transaction.atomic
def book_appointment(
    *,
    by: User,
    citizen_name: str,
    citizen_phone: str,
    address: str,
    commune: AdministrativeUnit,
    procedure: Procedure,
    post_office: PostOffice,
    slot_start: datetime,
    slot_end: datetime,
    assigned_to: User | None = None,
    note: str = "",
) -> PickupAppointment:
    if commune.pk not in (scoping.unit_ids(by) or set()) and not by.is_administrator:
        raise ValidationError(_("This commune is outside your scope."))
    offices = scoping.post_office_ids(by)
    if offices is not None and post_office.pk not in offices:
        raise ValidationError(_("This post office is outside your scope."))
    if slot_end <= slot_start:
        raise ValidationError(_("The end of the time slot must be after its start."))
    if not procedure.bcci_intake_allowed:
        raise ValidationError(_("This procedure cannot be received by post."))
    if assigned_to is not None and assigned_to.post_office_id != post_office.pk:
        raise ValidationError(_("The assigned staff member works at another post office."))
    if not citizen_name.strip() or not address.strip():
        raise ValidationError(_("Enter the citizen's name and address."))
    return PickupAppointment.objects.create(
        citizen_name=citizen_name.strip(),
        citizen_phone=citizen_phone,
        address=address.strip(),
        commune=commune,
        procedure=procedure,
        post_office=post_office,
        slot_start=slot_start,
        slot_end=slot_end,
        assigned_to=assigned_to,
        note=note,
        created_by=by,
    )


@transaction.atomic
def mark_appointment(
    *, appointment: PickupAppointment, by: User, status: str, note: str = ""
) -> PickupAppointment:
    """Missed or cancelled; a done appointment comes from receive_bcci_dossier."""
    appointment = PickupAppointment.objects.select_for_update().get(pk=appointment.pk)
    if status not in (PickupAppointment.Status.MISSED, PickupAppointment.Status.CANCELLED):
        raise ValidationError(_("An appointment is done when its dossier is received."))
    if appointment.status != PickupAppointment.Status.BOOKED:
        raise ValidationError(_("This appointment is no longer open."))
    appointment.status = status
    if note:
        appointment.note = note
    appointment.save(update_fields=["status", "note"])
    return appointment
