"""The commune official's home counters for the post: results to send, handover records to
sign, items back at the desk (accounts.navigation)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.navigation import Counter
from dossiers.selectors import dossiers_visible_to
from postal import list_filters
from postal.models import Handover
from postal.selectors import handovers_visible_to


def counters(user) -> list[Counter]:
    if user.role != Role.COMMUNE_OFFICIAL:
        return []
    mine = dossiers_visible_to(user)
    listing = reverse("dossiers:list")
    unsigned = handovers_visible_to(user).filter(status=Handover.Status.DRAFT).count()
    return [
        Counter(
            _("Results ready to hand to the post"),
            list_filters.apply(mine, "ready").count(),
            f"{listing}?postal=ready",
            "send",
            "primary",
            20,
        ),
        Counter(
            _("Handover records waiting for a signature"),
            unsigned,
            f"{reverse('postal:handover_list')}?status={Handover.Status.DRAFT}",
            "pen",
            "primary",
            21,
        ),
        Counter(
            _("Items back at the desk"),
            list_filters.apply(mine, "back").count(),
            f"{listing}?postal=back",
            "arrow-return-left",
            "warning",
            22,
        ),
    ]
