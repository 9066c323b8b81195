"""The explicit "show" of a phone or identity number: POST only, recorded, never cached."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from dossiers import selectors as dossier_selectors
from postal import selectors as postal_selectors
from privacy import services
from privacy.models import PersonalField

# URL slugs → fields; the slug says which field, never its value.
DOSSIER_FIELDS = {"phone": PersonalField.APPLICANT_PHONE, "id-number": PersonalField.APPLICANT_ID_NUMBER}


def _respond(request, *, obj, field: str, code: str, back: str):
    value = services.reveal(by=request.user, obj=obj, field=field)
    template = (
        "privacy/fragment_revealed.html" if request.headers.get("HX-Request") else "privacy/revealed.html"
    )
    response = render(
        request,
        template,
        {"value": value, "label": PersonalField(field).label, "code": code, "back": back},
    )
    add_never_cache_headers(response)
    return response


@require_POST
@login_required
def reveal_dossier(request, pk: int, field: str):
    if field not in DOSSIER_FIELDS:
        raise Http404
    dossier = dossier_selectors.dossier_for_user_or_404(request.user, pk)
    return _respond(
        request,
        obj=dossier,
        field=DOSSIER_FIELDS[field],
        code=dossier.code,
        back=reverse("dossiers:detail", args=[dossier.pk]),
    )


@require_POST
@login_required
def reveal_item(request, pk: int):
    item = postal_selectors.item_for_user_or_404(request.user, pk)
    return _respond(
        request,
        obj=item,
        field=PersonalField.RECIPIENT_PHONE,
        code=item.code,
        back=reverse("postal:item_detail", args=[item.pk]),
    )


@require_POST
@login_required
def reveal_appointment(request, pk: int):
    appointment = postal_selectors.appointment_for_user_or_404(request.user, pk)
    return _respond(
        request,
        obj=appointment,
        field=PersonalField.CITIZEN_PHONE,
        code=appointment.citizen_name,
        back=reverse("postal:appointment_list"),
    )
