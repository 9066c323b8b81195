"""The desk's pages around a saved dossier: corrections after saving, and the slips handed to
the citizen when a dossier needs a supplement (Form 02) or is refused (Form 03)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import Role
from accounts.permissions import role_required
from dossiers import editing, printing, selectors, workflow
from dossiers.forms import DossierEditForm, apply_service_errors
from dossiers.models import Dossier, Status, SupplementRequest
from dossiers.personal import mask_id_number, mask_phone

VIEW_ROLES = (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POSTAL_STAFF, Role.POST_MANAGER)
DESK_ROLES = (Role.COMMUNE_OFFICIAL,)


# --- corrections after saving -----------------------------------------------------------------


def _edit_initial(dossier: Dossier) -> dict:
    return {
        "version": dossier.version,
        "applicant_name": dossier.applicant_name,
        "applicant_address": dossier.applicant_address,
        "return_channel": dossier.return_channel,
        "decline_reason": dossier.decline_reason,
        "decline_note": dossier.decline_note,
    }


@role_required(*DESK_ROLES)
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


# --- Form 02 and Form 03 -------------------------------------------------------------------


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _print(request, template: str, context: dict, *, pdf: bool, filename: str):
    if pdf:
        return _pdf_response(printing.render_pdf(template, context, request=request), filename)
    return render(request, template, context)


@role_required(*VIEW_ROLES)
def supplement_slip(request, pk: int, request_id: int, pdf: bool = False):
    """Form 02: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ — one per supplement request."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    supplement = get_object_or_404(
        SupplementRequest.objects.select_related("requested_by"), pk=request_id, dossier=dossier
    )
    context = {
        **printing.form_context(dossier, request=request),
        "supplement": supplement,
        "items": [line.strip(" -•\t") for line in supplement.items.splitlines() if line.strip(" -•\t")],
    }
    return _print(
        request,
        "dossiers/print/form02.html",
        context,
        pdf=pdf,
        filename=f"phieu-yeu-cau-bo-sung-{dossier.code}-{supplement.pk}.pdf",
    )


@role_required(*VIEW_ROLES)
def refusal_slip(request, pk: int, pdf: bool = False):
    """Form 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ, with the reason given."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    if dossier.status != Status.REFUSED:
        raise Http404
    event = dossier.events.filter(action="dossier.refused").select_related("actor").order_by("-at").first()
    context = {
        **printing.form_context(dossier, request=request),
        "reason": (event.details.get("reason", "") if event else ""),
        "refused_at": event.at if event else dossier.finished_at,
        "refused_by": event.actor if event else None,
    }
    return _print(
        request, "dossiers/print/form03.html", context, pdf=pdf, filename=f"phieu-tu-choi-{dossier.code}.pdf"
    )
