from django.utils.translation import gettext_lazy as _

from accounts.navigation import MenuItem
from accounts.permissions import EVERYONE, NETWORK_OVERVIEW, NETWORK_READERS

ITEMS = [
    MenuItem(
        label=_("Network"),
        url_name="communes:network",
        roles=frozenset(NETWORK_OVERVIEW),
        icon="diagram-3",
        description=_(
            "The BĐVHX network at a glance: condition, communes without a point, combined desks, "
            "open and overdue improvement actions, and a map."
        ),
        order=60,
    ),
    MenuItem(
        label=_("Post offices"),
        url_name="communes:office_list",
        roles=frozenset(EVERYONE),
        icon="mailbox",
        description=_("The registry of post offices and BĐVHX in your scope, with export to Excel."),
        order=70,
    ),
    MenuItem(
        label=_("Improvement plan"),
        url_name="communes:action_list",
        roles=frozenset(NETWORK_READERS),
        icon="tools",
        description=_("Finding premises, repairs, new points and staff: who does what, by when."),
        order=75,
    ),
    MenuItem(
        label=_("Units"),
        url_name="communes:unit_list",
        roles=frozenset(EVERYONE),
        icon="geo-alt",
        description=_("Communes and district groupings in your scope, with their post offices."),
        order=80,
    ),
]
