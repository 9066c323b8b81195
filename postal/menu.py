from django.utils.translation import gettext_lazy as _

from accounts.navigation import MenuItem
from accounts.permissions import HANDOVER_PARTIES, POSTAL, TRANSFER_PLANNERS

ITEMS = [
    MenuItem(
        label=_("Scan"),
        url_name="postal:scan",
        roles=frozenset(POSTAL),
        icon="upc-scan",
        description=_("Scan or type an item code and record what happens to it."),
        order=20,
    ),
    MenuItem(
        label=_("Deliveries"),
        url_name="postal:deliveries",
        roles=frozenset(POSTAL),
        icon="truck",
        description=_("Results to deliver today, with their J+n targets."),
        order=22,
    ),
    MenuItem(
        label=_("BCCI intake"),
        url_name="postal:intake_create",
        roles=frozenset(POSTAL),
        icon="box-arrow-in-down",
        description=_("Receive a citizen's dossier at the post office or at home and print the Phiếu gửi."),
        order=24,
    ),
    MenuItem(
        label=_("Handover records"),
        url_name="postal:handover_list",
        roles=frozenset(HANDOVER_PARTIES),
        icon="clipboard-check",
        description=_("Biên bản giao nhận between the one-stop desk and the post."),
        order=26,
    ),
    MenuItem(
        label=_("Appointments"),
        url_name="postal:appointment_list",
        roles=frozenset(HANDOVER_PARTIES),
        icon="calendar-event",
        description=_("Pickup appointments at citizens' homes."),
        order=28,
    ),
    MenuItem(
        label=_("Task transfers"),
        url_name="postal:transfer_matrix",
        roles=frozenset(TRANSFER_PLANNERS),
        icon="diagram-3",
        description=_(
            "Which desk tasks each commune has transferred to postal staff, against the deadlines."
        ),
        order=60,
    ),
]
