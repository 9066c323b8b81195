"""Who may see a phone or identity number unmasked — on an explicit "show", never in lists.

Only the people who need the number for the job:

- the commune official of the receiving commune (the desk that handles the dossier);
- postal staff of the post office handling one of the dossier's postal items (the office that
  received it under a task transfer or delivers the result).

Leaders, post managers and administrators see masked values only: their jobs are counts and
rates, not calling citizens. Scope (404 for a foreign record) is checked by the selectors first;
these rules only decide between "show" and 403.
"""

from __future__ import annotations

from accounts.models import Role, User
from dossiers.models import Dossier
from postal.models import PickupAppointment, PostalItem


def _official_of(user: User, unit_id: int | None) -> bool:
    return user.role == Role.COMMUNE_OFFICIAL and user.unit_id is not None and user.unit_id == unit_id


def _staff_of(user: User, post_office_id: int | None) -> bool:
    return (
        user.role == Role.POSTAL_STAFF
        and user.post_office_id is not None
        and user.post_office_id == post_office_id
    )


def may_reveal_dossier(user: User, dossier: Dossier) -> bool:
    if not user.is_authenticated:
        return False
    if _official_of(user, dossier.receiving_unit_id):
        return True
    return (
        user.role == Role.POSTAL_STAFF
        and user.post_office_id is not None
        and PostalItem.objects.filter(dossier=dossier, post_office_id=user.post_office_id).exists()
    )


def may_reveal_item(user: User, item: PostalItem) -> bool:
    if not user.is_authenticated:
        return False
    return _staff_of(user, item.post_office_id) or _official_of(user, item.dossier.receiving_unit_id)


def may_reveal_appointment(user: User, appointment: PickupAppointment) -> bool:
    if not user.is_authenticated:
        return False
    return _staff_of(user, appointment.post_office_id) or _official_of(user, appointment.commune_id)


def may_reveal(user: User, obj) -> bool:
    if isinstance(obj, Dossier):
        return may_reveal_dossier(user, obj)
    if isinstance(obj, PostalItem):
        return may_reveal_item(user, obj)
    if isinstance(obj, PickupAppointment):
        return may_reveal_appointment(user, obj)
    return False
