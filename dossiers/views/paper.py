"""Printed forms: the receipt (form 01) and the apology with a new date (form 04), as HTML or PDF."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import DOSSIER_VIEWERS, role_required
from dossiers import printing, selectors
from dossiers.models import Dossier, Extension
from dossiers.personal import mask_id_number, mask_phone


def _print_context(dossier: Dossier) -> dict:
    return {
        "dossier": dossier,
        "documents": dossier.documents.all(),
        "qr": printing.qr_svg(dossier.code),
        "masked_id": mask_id_number(dossier.applicant_id_number),
        "masked_phone": mask_phone(dossier.applicant_phone),
        "unit": dossier.receiving_unit,
        "parent": dossier.receiving_unit.parent,
        "now": timezone.localtime(),
    }


@role_required(*DOSSIER_VIEWERS)
def receipt(request, pk: int, pdf: bool = False):
    """Form 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả (A5)."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    if dossier.received_at is None:
        messages.info(request, _("The receipt is printed once the dossier has been received at the desk."))
        return redirect("dossiers:detail", pk=pk)
    context = _print_context(dossier)
    if pdf:
        content = printing.render_pdf("dossiers/print/form01.html", context, request=request)
        return _pdf_response(content, f"giay-tiep-nhan-{dossier.code}.pdf")
    return render(request, "dossiers/print/form01.html", context)


@role_required(*DOSSIER_VIEWERS)
def apology(request, pk: int, pdf: bool = False):
    """Form 04: Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    extension = Extension.objects.filter(dossier=dossier).select_related("issued_by").first()
    if extension is None:
        raise Http404
    context = {**_print_context(dossier), "extension": extension}
    if pdf:
        content = printing.render_pdf("dossiers/print/form04.html", context, request=request)
        return _pdf_response(content, f"phieu-xin-loi-{dossier.code}.pdf")
    return render(request, "dossiers/print/form04.html", context)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
