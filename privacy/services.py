"""Showing personal data unmasked: every showing is recorded (PersonalDataAccess)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from dossiers.models import Dossier
from postal.models import PickupAppointment, PostalItem
from privacy import rules
from privacy.models import PersonalDataAccess, PersonalField

logger = logging.getLogger(__name__)

# Which record carries which field.
FIELDS_BY_MODEL = {
    Dossier: (PersonalField.APPLICANT_PHONE, PersonalField.APPLICANT_ID_NUMBER),
    PostalItem: (PersonalField.RECIPIENT_PHONE,),
    PickupAppointment: (PersonalField.CITIZEN_PHONE,),
}
_ATTRIBUTE = {
    PersonalField.APPLICANT_PHONE: "applicant_phone",
    PersonalField.APPLICANT_ID_NUMBER: "applicant_id_number",
    PersonalField.RECIPIENT_PHONE: "recipient_phone",
    PersonalField.CITIZEN_PHONE: "citizen_phone",
}
_RECORD = {Dossier: "dossier", PostalItem: "item", PickupAppointment: "appointment"}


@transaction.atomic
def reveal(*, by: User, obj: Dossier | PostalItem | PickupAppointment, field: str) -> str:
    """The unmasked value of ``field`` on ``obj`` for ``by``, recorded; 403 when the rule says no."""
    model = type(obj)
    if field not in FIELDS_BY_MODEL.get(model, ()):
        raise ValueError(f"{field} is not a personal field of {model.__name__}")
    if not rules.may_reveal(by, obj):
        raise PermissionDenied
    PersonalDataAccess.objects.create(actor=by, at=timezone.now(), field=field, **{_RECORD[model]: obj})
    # Ids only: the value itself never goes into a log.
    logger.info("personal data %s of %s %s shown to user %s", field, model.__name__, obj.pk, by.pk)
    return getattr(obj, _ATTRIBUTE[field])
