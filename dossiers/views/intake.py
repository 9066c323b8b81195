"""Logging a dossier at the one-stop desk: the intake form, its live preview and document list."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import DESK, role_required
from communes import scoping
from communes.models import AdministrativeUnit
from dossiers import calendar, services, workdays
from dossiers.forms import (
    DocumentFormSet,
    IntakeForm,
    apply_service_errors,
    documents_initial,
)
from dossiers.models import IntakeChannel, Procedure


def _receiving_unit(request, form) -> AdministrativeUnit | None:
    user = request.user
    if "receiving_unit" in form.fields:
        unit = form.cleaned_data.get("receiving_unit")
        if unit is not None:
            scoping.ensure_unit_in_scope(user, unit.pk)
        return unit
    return user.unit


@role_required(*DESK)
@require_http_methods(["GET", "POST"])
def dossier_create(request):
    user = request.user
    if request.method == "POST":
        form = IntakeForm(request.POST, user=user)
        formset = DocumentFormSet(request.POST, prefix="documents")
        if form.is_valid() and formset.is_valid():
            documents = [
                {
                    "name": f.cleaned_data["name"],
                    "form": f.cleaned_data["form"],
                    "count": f.cleaned_data["count"],
                }
                for f in formset.forms
                if f.cleaned_data and f.cleaned_data.get("name", "").strip()
            ]
            data = form.cleaned_data
            try:
                dossier = services.create_dossier(
                    by=user,
                    receiving_unit=_receiving_unit(request, form),
                    intake=services.Intake(
                        procedure=data["procedure"],
                        applicant_name=data["applicant_name"],
                        applicant_phone=data["applicant_phone"],
                        applicant_address=data["applicant_address"],
                        applicant_id_number=data["applicant_id_number"],
                        intake_channel=data["intake_channel"],
                        return_channel=data["return_channel"],
                        decline_reason=data["decline_reason"],
                        decline_note=data["decline_note"],
                        documents=documents,
                        received_at=data["received_at"],
                    ),
                )
            except ValidationError as error:
                for message in apply_service_errors(form, error):
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("Dossier %(code)s logged; print the receipt for the citizen.") % {"code": dossier.code},
                )
                return redirect("dossiers:detail", pk=dossier.pk)
    else:
        form = IntakeForm(user=user)
        formset = DocumentFormSet(prefix="documents")
    return render(
        request,
        "dossiers/dossier_form.html",
        {"form": form, "formset": formset, "preview": _preview(request.POST or None, unit=request.user.unit)},
    )


def _preview(data, *, unit=None) -> dict:
    """What the due date will be, from the procedure, channel and receipt time entered so far."""
    if not data:
        return {}
    raw_procedure = (data.get("procedure") or "").strip()
    if not (raw_procedure.isascii() and raw_procedure.isdigit() and len(raw_procedure) <= 18):
        return {}  # not a catalogue id: the form itself says so
    procedure = Procedure.objects.filter(pk=int(raw_procedure), active=True).first()
    if procedure is None:
        return {}
    try:
        channel = int(data.get("intake_channel") or IntakeChannel.IN_PERSON)
    except ValueError:
        channel = IntakeChannel.IN_PERSON
    text = (data.get("received_at") or "").strip()
    received = None
    error = ""
    if text:
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%Y-%m-%dT%H:%M", "%d/%m/%Y"):
            try:
                received = datetime.strptime(text, fmt).replace(tzinfo=workdays.TZ)
                break
            except ValueError:
                continue
        if received is None:
            error = _("Enter the time as dd/mm/yyyy hh:mm.")
        elif received > timezone.now():
            error = _("The received date cannot be in the future.")
    if channel == IntakeChannel.BCCI and received is None and not error:
        return {"procedure": procedure, "waiting_for_handover": True}
    moment = received or timezone.now()
    province = calendar.province_of(unit)
    return {
        "procedure": procedure,
        "error": error,
        "received_at": moment,
        "due_date": None
        if error
        else workdays.due_date(moment, procedure.processing_days, province=province),
        "after_cutoff": not error
        and workdays.counting_start(moment, province=province) != workdays.local_date(moment),
    }


@role_required(*DESK)
def intake_preview(request):
    return render(
        request, "dossiers/fragment_due_date.html", {"preview": _preview(request.GET, unit=request.user.unit)}
    )


@role_required(*DESK)
def intake_documents(request):
    procedure = Procedure.objects.filter(pk=request.GET.get("procedure") or None, active=True).first()
    formset = DocumentFormSet(prefix="documents", initial=documents_initial(procedure))
    return render(request, "dossiers/fragment_documents.html", {"formset": formset})
