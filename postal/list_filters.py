"""What the post adds to the desk's dossier list: a filter on where a result sent by post is
(registered from PostalConfig.ready, as dossiers never imports postal)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from dossiers.models import ReturnChannel
from dossiers.selectors import EXTRA_FILTERS, ExtraFilter
from dossiers.statuses import Status
from postal.models import Direction, ItemStatus, PostalItem
from postal.selectors import IN_TRANSIT_STATUSES

CHOICES = [
    ("ready", _("Ready to hand to the post")),
    ("in_transit", _("In transit")),
    ("delivered", _("Delivered")),
    ("back", _("Back at the desk")),
]


def _items(*statuses):
    return PostalItem.objects.filter(dossier=OuterRef("pk"), direction=Direction.RETURN, status__in=statuses)


def apply(qs: QuerySet, value: str) -> QuerySet:
    if value == "ready":
        # Processed, the citizen chose the post, and no return item on its way or delivered.
        active = [status for status in ItemStatus.values if status != ItemStatus.CANCELLED]
        return qs.filter(status=Status.FINISHED, return_channel=ReturnChannel.BCCI).exclude(
            Exists(_items(*active))
        )
    if value == "in_transit":
        return qs.filter(Exists(_items(*IN_TRANSIT_STATUSES)))
    if value == "delivered":
        return qs.filter(Exists(_items(ItemStatus.DELIVERED)))
    if value == "back":
        # Back from the post and not yet handed to the citizen at the desk.
        return qs.filter(status=Status.FINISHED).filter(Exists(_items(ItemStatus.RETURNED_TO_SENDER)))
    return qs


def register() -> None:
    EXTRA_FILTERS["postal"] = ExtraFilter(label=_("Result by post"), choices=CHOICES, apply=apply)
