from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.navigation import MenuItem

ITEMS = [
    MenuItem(
        label=_("Units"),
        url_name="communes:unit_list",
        roles=frozenset({Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POST_MANAGER, Role.POSTAL_STAFF}),
        icon="geo-alt",
        description=_("Communes and district groupings in your scope, with their post offices."),
        order=80,
    ),
]
