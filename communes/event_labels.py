"""The network's history in words (core.labels): post offices and improvement actions."""

from django.utils.translation import gettext_lazy as _

from core.labels import EventLabel, register

register(
    "communes",
    {
        "post_office.created": EventLabel(_("Office added")),
        "post_office.updated": EventLabel(_("Office record changed")),
        "network_action.created": EventLabel(_("Action recorded"), _("due on %(due_date)s")),
        "network_action.updated": EventLabel(_("Action changed")),
        "network_action.started": EventLabel(_("Work started")),
        "network_action.done": EventLabel(_("Action done"), _("completed on %(completed_on)s")),
        "network_action.cancelled": EventLabel(_("Action cancelled")),
    },
)
