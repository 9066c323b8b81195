"""Printed forms (Circular 01/2018): the receipt (form 01), the supplement request (form 02),
the refusal (form 03) and the apology with a new date (form 04), as HTML or PDF."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import DOSSIER_VIEWERS, role_required
from dossiers import printing, selectors
from dossiers.models import Extension, Status, SupplementRequest


def _print(request, template: str, context: dict, *, pdf: bool, filename: str):
    if pdf:
        return _pdf_response(printing.render_pdf(template, context, request=request), filename)
    return render(request, template, context)


@role_required(*DOSSIER_VIEWERS)
def receipt(request, pk: int, pdf: bool = False):
    """Form 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả (A5). A refused dossier was never
    accepted: it gets the refusal slip (form 03) instead."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    if dossier.status == Status.REFUSED:
        messages.info(
            request, _("The dossier was refused: the citizen gets the refusal slip, not a receipt.")
        )
        return redirect("dossiers:refusal", pk=pk)
    if dossier.received_at is None:
        messages.info(request, _("The receipt is printed once the dossier has been received at the desk."))
        return redirect("dossiers:detail", pk=pk)
    context = printing.form_context(dossier, request=request)
    return _print(
        request, "dossiers/print/form01.html", context, pdf=pdf, filename=f"giay-tiep-nhan-{dossier.code}.pdf"
    )


@role_required(*DOSSIER_VIEWERS)
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


@role_required(*DOSSIER_VIEWERS)
def refusal_slip(request, pk: int, pdf: bool = False):
    """Form 03: Phiếu từ chối tiếp nhận giải quyết hồ sơ, with the reason given."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    if dossier.status != Status.REFUSED:
        raise Http404
    event = dossier.events.filter(action="dossier.refused").select_related("actor").order_by("-at").first()
    context = {
        **printing.form_context(dossier, request=request),
        "reason": event.details.get("reason", "") if event else "",
        "refused_at": event.at if event else dossier.finished_at,
        "refused_by": event.actor if event else None,
    }
    return _print(
        request, "dossiers/print/form03.html", context, pdf=pdf, filename=f"phieu-tu-choi-{dossier.code}.pdf"
    )


@role_required(*DOSSIER_VIEWERS)
def apology(request, pk: int, pdf: bool = False):
    """Form 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    extension = Extension.objects.filter(dossier=dossier).select_related("issued_by").first()
    if extension is None:
        raise Http404
    context = {**printing.form_context(dossier, request=request), "extension": extension}
    return _print(
        request, "dossiers/print/form04.html", context, pdf=pdf, filename=f"phieu-xin-loi-{dossier.code}.pdf"
    )


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
