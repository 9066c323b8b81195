"""The dossier's history in words (core.labels): one label per event kind this app writes."""

from django.utils.translation import gettext_lazy as _

from core.labels import EventLabel, register
from dossiers.models import IntakeChannel, ReturnChannel, Timeliness

register(
    "dossiers",
    {
        "dossier.registered": EventLabel(_("Dossier registered; awaiting the handover record from the post")),
        "dossier.accepted": EventLabel(_("Dossier accepted at the desk"), _("result due on %(due_date)s")),
        "dossier.submitted_by_post": EventLabel(
            _("Dossier received by post: the handover record was signed"), _("result due on %(due_date)s")
        ),
        "dossier.refused": EventLabel(_("Dossier not accepted"), _("reason: %(reason)s")),
        "dossier.processing_started": EventLabel(_("Processing started")),
        "dossier.supplement_requested": EventLabel(
            _("The citizen was asked to supplement the dossier"), _("documents: %(items)s")
        ),
        "dossier.supplement_completed": EventLabel(
            _("The citizen completed the dossier; the deadline restarts"), _("new due date %(due_date)s")
        ),
        "dossier.payment_requested": EventLabel(
            _("The citizen was asked to fulfil a financial obligation"), _("amount %(amount)s VND")
        ),
        "dossier.payment_confirmed": EventLabel(_("The financial obligation was fulfilled")),
        "dossier.extended": EventLabel(
            _("Apology issued and a new date set"),
            _("from %(previous_due_date)s to %(due_date)s, reason: %(reason)s"),
        ),
        "dossier.withdrawn": EventLabel(_("The citizen withdrew the dossier"), _("reason: %(reason)s")),
        "dossier.stopped": EventLabel(_("Processing stopped"), _("reason: %(reason)s")),
        "dossier.finished": EventLabel(_("Processing finished"), "%(timeliness)s"),
        "dossier.returned": EventLabel(_("Result returned to the citizen"), "%(channel)s"),
        "dossier.imported": EventLabel(_("Imported from the provincial one-stop system"), _("file %(file)s")),
        "dossier.import_updated": EventLabel(_("Updated from the provincial one-stop system")),
        "dossier.api_created": EventLabel(
            _("Received from the provincial one-stop system through the API"), _("system %(client)s")
        ),
        "dossier.api_updated": EventLabel(
            _("Updated by the provincial one-stop system through the API"), _("system %(client)s")
        ),
        "dossier.edited": EventLabel(_("Dossier corrected")),
        "dossier.messages_declined": EventLabel(_("The citizen asked to receive no more text messages")),
        "dossier.postal_return_failed": EventLabel(
            _("The post could not deliver the result; it is back at the desk")
        ),
    },
    formatters={
        "timeliness": lambda value: Timeliness(value).label,
        "channel": lambda value: ReturnChannel(value).label,
        "requested_channel": lambda value: ReturnChannel(value).label,
        "return_channel": lambda value: ReturnChannel(value).label,
        "intake_channel": lambda value: IntakeChannel(int(value)).label,
    },
)
