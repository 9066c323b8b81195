"""Corrections after saving: the applicant's details, the address and how the result is
returned, with the version the official saw."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import DESK, role_required
from dossiers import editing, selectors, workflow
from dossiers.forms import DossierEditForm, apply_service_errors
from dossiers.models import Dossier
from dossiers.personal import mask_id_number, mask_phone


def _edit_initial(dossier: Dossier) -> dict:
    return {
        "version": dossier.version,
        "applicant_name": dossier.applicant_name,
        "applicant_address": dossier.applicant_address,
        "return_channel": dossier.return_channel,
        "decline_reason": dossier.decline_reason,
        "decline_note": dossier.decline_note,
    }


@role_required(*DESK)
@require_http_methods(["GET", "POST"])
def dossier_edit(request, pk: int):
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    masks = {
        "masked_phone": mask_phone(dossier.applicant_phone),
        "masked_id": mask_id_number(dossier.applicant_id_number),
    }
    status, stale = 200, False
    if request.method == "POST":
        form = DossierEditForm(request.POST, **masks)
        if form.is_valid():
            data = form.cleaned_data
            try:
                editing.update_dossier(
                    dossier=dossier,
                    by=request.user,
                    expected_version=data["version"],
                    applicant_name=data["applicant_name"],
                    # An empty box keeps the number on file (it is never sent to the page whole).
                    applicant_phone=data["applicant_phone"] or dossier.applicant_phone,
                    applicant_id_number=data["applicant_id_number"] or dossier.applicant_id_number,
                    applicant_address=data["applicant_address"],
                    return_channel=data["return_channel"],
                    decline_reason=data["decline_reason"],
                    decline_note=data["decline_note"],
                )
            except workflow.StaleDossier as error:
                stale, status = True, 409
                form.add_error(None, error)
            except ValidationError as error:
                status = 400
                for message in apply_service_errors(form, error):
                    form.add_error(None, message)
            else:
                messages.success(request, _("Dossier %(code)s corrected.") % {"code": dossier.code})
                return redirect("dossiers:detail", pk=dossier.pk)
        else:
            status = 400
    else:
        form = DossierEditForm(initial=_edit_initial(dossier), **masks)
    return render(
        request,
        "dossiers/dossier_edit.html",
        {"dossier": dossier, "form": form, "editable": editing.can_edit(dossier), "stale": stale},
        status=status,
    )
