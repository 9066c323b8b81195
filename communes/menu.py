from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.navigation import MenuItem
from communes.roles import NETWORK_OVERVIEW

ALL_ROLES = frozenset({Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POST_MANAGER, Role.POSTAL_STAFF})

ITEMS = [
    MenuItem(
        label=_("Network"),
        url_name="communes:network",
        group="network",
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
        group="network",
        roles=ALL_ROLES,
        icon="mailbox",
        description=_("The registry of post offices and BĐVHX in your scope, with export to Excel."),
        order=70,
    ),
    MenuItem(
        label=_("Improvement plan"),
        url_name="communes:action_list",
        group="network",
        roles=frozenset({Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POST_MANAGER}),
        icon="tools",
        description=_("Finding premises, repairs, new points and staff: who does what, by when."),
        order=75,
    ),
    MenuItem(
        label=_("Units"),
        url_name="communes:unit_list",
        group="network",
        roles=ALL_ROLES,
        icon="geo-alt",
        description=_("Communes and district groupings in your scope, with their post offices."),
        order=80,
    ),
]
