"""The commune official's home counters for the desk's own dossiers (accounts.navigation)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.navigation import Counter
from dossiers.selectors import dossiers_visible_to
from dossiers.statuses import RUNNING, Status


def counters(user) -> list[Counter]:
    if user.role != Role.COMMUNE_OFFICIAL:
        return []
    today = timezone.localdate()
    running = Q(status__in=RUNNING)
    # One grouped query over the commune's open dossiers (dossier_unit_status_due_idx).
    figures = dossiers_visible_to(user).aggregate(
        due_today=Count("id", filter=running & Q(due_date=today)),
        overdue=Count("id", filter=running & Q(due_date__lt=today)),
        supplements=Count("id", filter=Q(status=Status.SUPPLEMENT_REQUESTED)),
    )
    listing = reverse("dossiers:list")
    return [
        Counter(
            _("Due today"),
            figures["due_today"],
            f"{listing}?flag=due_today",
            "hourglass-split",
            "warning",
            10,
        ),
        Counter(
            _("Overdue"), figures["overdue"], f"{listing}?flag=overdue", "exclamation-octagon", "danger", 11
        ),
        Counter(
            _("Supplements waiting"),
            figures["supplements"],
            f"{listing}?status={Status.SUPPLEMENT_REQUESTED}",
            "file-earmark-plus",
            "warning",
            12,
        ),
    ]
