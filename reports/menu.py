from django.utils.translation import gettext_lazy as _

from accounts.navigation import MenuItem
from accounts.permissions import DASHBOARD_READERS, LEADERS

ITEMS = [
    MenuItem(
        label=_("Dashboard"),
        url_name="reports:dashboard",
        roles=frozenset(DASHBOARD_READERS),
        icon="speedometer2",
        description=_("Weekly rates against targets, commune ranking, late dossiers."),
        order=10,
    ),
    MenuItem(
        label=_("Targets"),
        url_name="reports:targets",
        roles=frozenset(LEADERS),
        icon="bullseye",
        description=_("Yearly targets for each rate, per unit."),
        order=90,
    ),
    MenuItem(
        label=_("Exports"),
        url_name="reports:exports",
        roles=frozenset(LEADERS),
        icon="file-earmark-spreadsheet",
        description=_("The weekly report and the year-to-date table, as XLSX or CSV."),
        order=95,
    ),
]
