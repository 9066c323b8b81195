"""What this app shows on the pages of the apps below it (core.panels)."""

from __future__ import annotations

from core import panels
from notify import selectors
from notify.forms import FollowUpCloseForm


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


def register() -> None:
    panels.register(
        "dossier_detail", template_name="notify/fragment_dossier_messages.html", context=_dossier_messages
    )
    panels.register("home", template_name="notify/fragment_home_follow_ups.html", context=_home_follow_ups)
