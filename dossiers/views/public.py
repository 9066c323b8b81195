"""The citizens' public status lookup (/track/)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dossiers import tracking
from dossiers.forms import (
    TrackingForm,
)
from dossiers.models import Status


@require_http_methods(["GET", "POST"])
def track(request):
    """Public: a citizen looks up a dossier with its code and the PIN on the receipt."""
    form = TrackingForm(request.POST or None)
    context = {"form": form, "result": None, "not_found": False, "limited": False}
    status = 200
    if request.method == "POST":
        if tracking.rate_limited(request):
            context["limited"] = True
            status = 429
        elif form.is_valid():
            dossier = tracking.find(form.cleaned_data["code"], form.cleaned_data["pin"])
            if dossier is None:
                context["not_found"] = True
            else:
                context["result"] = dossier
                context["postal"] = tracking.postal_progress(dossier)
                context["status_open"] = dossier.status in (Status.ACCEPTED, Status.PROCESSING)
    response = render(request, "dossiers/track.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
