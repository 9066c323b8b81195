from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.navigation import MenuItem

ITEMS = [
    MenuItem(
        label=_("Dashboard"),
        url_name="reports:dashboard",
        group="reports",
        roles=frozenset({Role.LEADER, Role.COMMUNE_OFFICIAL}),
        icon="speedometer2",
        description=_("Weekly rates against targets, commune ranking, late dossiers."),
        order=10,
    ),
    MenuItem(
        label=_("Targets"),
        url_name="reports:targets",
        group="reports",
        roles=frozenset({Role.LEADER}),
        icon="bullseye",
        description=_("Yearly targets for each rate, per unit."),
        order=90,
    ),
    MenuItem(
        label=_("Exports"),
        url_name="reports:exports",
        group="reports",
        roles=frozenset({Role.LEADER}),
        icon="file-earmark-spreadsheet",
        description=_("The weekly report and the year-to-date table, as XLSX or CSV."),
        order=95,
    ),
]
