"""The citizen's pages (no login): the rating after delivery and the stop link; and the
commune's follow-up of a low rating."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from notify import selectors, services
from notify.forms import FollowUpCloseForm, RatingForm


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def rate(request, token: str):
    """Public: 1–5 stars and a comment, once per dossier, within 30 days of delivery."""
    rating = services.rating_for_token(token)
    if rating is None:
        return _no_store(render(request, "notify/rate.html", {"state": "unknown"}, status=404))
    state = "open"
    if rating.answered_at is not None:
        state = "answered"
    elif timezone.now() > rating.expires_at:
        state = "expired"
    form = RatingForm(request.POST or None)
    if request.method == "POST" and state == "open" and form.is_valid():
        try:
            services.rate(token=token, stars=form.cleaned_data["stars"], comment=form.cleaned_data["comment"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("notify:rate", token=token)
    context = {"state": state, "form": form, "rating": rating, "dossier_code": rating.dossier.code}
    return _no_store(render(request, "notify/rate.html", context, status=410 if state == "expired" else 200))


@require_http_methods(["GET", "POST"])
def stop(request, token: str):
    """Public: the citizen stops messages about one dossier (a GET only asks, so that link
    previews in chat apps do not unsubscribe anyone)."""
    dossier = services.dossier_for_stop_token(token)
    if dossier is None:
        return _no_store(render(request, "notify/stop.html", {"state": "unknown"}, status=404))
    if request.method == "POST":
        services.stop_messages(dossier=dossier)
        return redirect("notify:stop", token=token)
    state = "stopped" if dossier.messages_declined else "ask"
    return _no_store(render(request, "notify/stop.html", {"state": state, "dossier_code": dossier.code}))


@require_POST
@login_required
def close_follow_up(request, pk: int):
    if request.user.role not in (Role.COMMUNE_OFFICIAL, Role.ADMINISTRATOR):
        raise PermissionDenied
    follow_up = selectors.follow_up_for_user_or_404(request.user, pk)
    form = FollowUpCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write what was done for the citizen before closing the follow-up."))
        return redirect("accounts:home")
    try:
        services.close_follow_up(follow_up=follow_up, by=request.user, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Follow-up closed."))
    return redirect("accounts:home")
