"""The citizens' public status lookup (/track/)."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dossiers import tracking
from dossiers.forms import (
    TrackingForm,
)


@require_http_methods(["GET", "POST"])
def track(request):
    """Public: a citizen looks up a dossier with its code and the PIN on the receipt."""
    # The receipt's QR code opens this page with the code filled in; the PIN is still typed.
    form = TrackingForm(request.POST or None, initial={"code": request.GET.get("code", "")[:40]})
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
                context["status_sentence"] = tracking.citizen_status(dossier)
                context["supplement_items"] = tracking.open_supplement_items(dossier)
                context["desk"] = dossier.receiving_unit
                context["postal"] = tracking.postal_progress(dossier)
    response = render(request, "dossiers/track.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
