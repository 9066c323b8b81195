"""The postal app on the road: actions made on the phone while offline are queued there with an
id the phone makes (a UUID) and sent again when the network returns. Sending the same action
twice must be one action, even when two copies arrive at the same moment, and an action that
the item has moved past meanwhile is refused as a conflict for the employee to see — never
applied silently.

How: the ClientAction row is inserted in the same transaction as the action. A second copy's
insert waits on the primary key until the first commits, then finds the row and answers with the
first outcome; if the first failed (rolled back), the second goes ahead as if it were first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from postal.models import ClientAction, PostalItem

# How old an offline action may be when it finally arrives: a week on the road without signal
# is already far more than happens; older ones are refused so a lost phone cannot replay them.
MAX_OFFLINE_AGE = timedelta(days=7)
# Phones' clocks drift; a little into the future is tolerated, then the server time is used.
CLOCK_SKEW = timedelta(minutes=10)


@dataclass(frozen=True)
class Outcome:
    item: PostalItem | None
    status: str
    duplicate: bool


def parse_client_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(_("The app sent an action id that is not valid.")) from None


def client_time(value: str | None) -> datetime | None:
    """When the employee acted, as the phone recorded it; None means now."""
    if not value:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise ValidationError(_("The app sent a time that is not valid."))
    now = timezone.now()
    if moment > now + CLOCK_SKEW:
        raise ValidationError(_("The phone's clock is ahead of the real time; correct it and send again."))
    if moment < now - MAX_OFFLINE_AGE:
        raise ValidationError(_("This action was recorded more than 7 days ago and can no longer be sent."))
    return min(moment, now)


def apply_once(
    *, client_id: uuid.UUID | None, user: User, item: PostalItem, kind: str, action: Callable[[], PostalItem]
) -> Outcome:
    """Run ``action`` unless an action with this id was already applied; raise its refusal."""
    if client_id is None:
        done = action()
        return Outcome(item=done, status=done.status, duplicate=False)
    try:
        with transaction.atomic():
            record = ClientAction.objects.create(
                id=client_id, user=user, item=item, kind=kind, result_status=item.status
            )
            done = action()
            record.result_status = done.status
            record.attempt = getattr(done, "last_attempt", None)
            record.save(update_fields=["result_status", "attempt"])
            return Outcome(item=done, status=done.status, duplicate=False)
    except IntegrityError:
        earlier = ClientAction.objects.filter(pk=client_id).first()
        if earlier is None:
            raise
        if earlier.user_id != user.pk or earlier.item_id != item.pk or earlier.kind != kind:
            raise ValidationError(_("This action id was already used for another action.")) from None
        return Outcome(item=None, status=earlier.result_status, duplicate=True)
