"""What this app shows on the pages of the apps below it (core.panels)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core import panels
from notify import selectors
from notify.forms import FollowUpCloseForm
from reports.weeks import week_bounds


def _dossier_messages(request, dossier):
    return {"notices": list(selectors.messages_of(dossier)), "messages_declined": dossier.messages_declined}


def _home_follow_ups(request):
    if not selectors.sees_follow_ups(request.user):
        return None
    follow_ups = list(selectors.open_follow_ups(request.user)[:20])
    if not follow_ups:
        return None
    return {
        "follow_ups": follow_ups,
        "close_form": FollowUpCloseForm(),
        "can_close": request.user.role != "leader",
    }


def _dashboard_satisfaction(request, unit, rows, ranking_first, monday):
    start, _end = week_bounds(ranking_first)
    _start, end = week_bounds(monday)
    unit_ids = [row.unit.pk for row in rows]
    communes = [
        {
            "name": row.unit.name,
            "answers": row.counts["ratings"],
            "mean": row.counts["rating_stars"] / row.counts["ratings"],
            "satisfaction": row.rates["satisfaction_rate"],
            "low": row.counts["ratings_low"],
        }
        for row in rows
        if row.counts["ratings"]
    ]
    return {
        "groups": [
            (_("By commune"), "commune", sorted(communes, key=lambda r: (r["mean"], r["name"]))),
            (
                _("By post office (BĐVHX)"),
                "office",
                selectors.satisfaction_by(unit_ids, start=start, end=end, group="office"),
            ),
            (
                _("By postal employee"),
                "employee",
                selectors.satisfaction_by(unit_ids, start=start, end=end, group="employee"),
            ),
        ],
    }


def register() -> None:
    panels.register(
        "dossier_detail", template_name="notify/fragment_dossier_messages.html", context=_dossier_messages
    )
    panels.register("home", template_name="notify/fragment_home_follow_ups.html", context=_home_follow_ups)
    panels.register(
        "reports_dashboard",
        template_name="notify/fragment_dashboard_satisfaction.html",
        context=_dashboard_satisfaction,
    )
