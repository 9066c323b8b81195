from django.utils.translation import gettext_lazy as _

from accounts.navigation import MenuItem
from accounts.permissions import DESK, DOSSIER_VIEWERS

ITEMS = [
    MenuItem(
        label=_("Dossiers"),
        url_name="dossiers:list",
        roles=frozenset(DOSSIER_VIEWERS),
        icon="folder2-open",
        description=_("Dossiers in your scope: filter by status, deadline or channel, open, export."),
        order=10,
    ),
    MenuItem(
        label=_("New dossier"),
        url_name="dossiers:create",
        roles=frozenset(DESK),
        icon="plus-square",
        description=_("Log a dossier handed in at the desk and print the receipt."),
        order=11,
    ),
    MenuItem(
        label=_("Import"),
        url_name="dossiers:import_upload",
        roles=frozenset(DESK),
        icon="upload",
        description=_("Import dossiers from the provincial one-stop system (CSV or XLSX)."),
        order=12,
    ),
]
