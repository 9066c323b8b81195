"""Postal items, handovers and task transfers in words (core.labels), and what the post adds
to a dossier's history."""

from django.utils.translation import gettext_lazy as _

from core.labels import EventLabel, register
from postal.models import DeliveryAttempt, Direction

register(
    "postal",
    {
        # A postal item's own history.
        "item.created": EventLabel(_("Postal item created"), "%(direction)s"),
        "item.intake_received": EventLabel(
            _("Dossier received from the citizen by postal staff"), _("%(documents)s documents")
        ),
        "item.accepted": EventLabel(_("Accepted by the post"), _("handover record %(handover)s")),
        "item.in_transit": EventLabel(_("In transit")),
        "item.out_for_delivery": EventLabel(_("Out for delivery")),
        "item.delivered": EventLabel(_("Delivered"), _("attempt %(attempt)s")),
        "item.delivery_failed": EventLabel(_("Delivery attempt failed"), "%(outcome)s"),
        "item.returned_to_agency": EventLabel(
            _("Back at the desk after the failed notices"), _("%(notices)s notices")
        ),
        "item.returned_to_sender": EventLabel(_("Back at the desk after the failed notices")),
        "item.handed_to_desk": EventLabel(
            _("Handed to the one-stop desk"), _("handover record %(handover)s")
        ),
        "item.cancelled": EventLabel(_("Postal item cancelled")),
        "item.scanned": EventLabel(_("Scanned again"), _("note: %(note)s")),
        "item.added_to_handover": EventLabel(_("Put on a handover record"), "%(handover)s"),
        "item.removed_from_handover": EventLabel(_("Taken off a handover record"), "%(handover)s"),
        "item.handover_line_marked": EventLabel(_("Checked on the handover record"), "%(handover)s"),
        "item.handover_incomplete": EventLabel(
            _("Left behind: incomplete on the handover record"), "%(handover)s"
        ),
        # Lines the post adds to a dossier's history.
        "postal.return_item_created": EventLabel(
            _("A postal item was created to send the result"), _("item %(item)s")
        ),
        "postal.handed_to_post": EventLabel(
            _("Result handed to the post"), _("item %(item)s, handover record %(handover)s")
        ),
        "postal.returned_to_agency": EventLabel(
            _("The post could not deliver the result; it is back at the desk"),
            _("item %(item)s after %(notices)s notices"),
        ),
        # Task transfers to postal staff.
        "transfer.planned": EventLabel(_("Transfer of the task planned")),
        "transfer.updated": EventLabel(_("Transfer plan changed")),
        "transfer.done": EventLabel(_("Task transferred to postal staff")),
    },
    formatters={
        "outcome": lambda value: DeliveryAttempt.Outcome(value).label,
        "direction": lambda value: Direction(value).label,
    },
)
