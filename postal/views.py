"""Thin views: check the role (403), find the object in scope (404), call a service, show the
outcome. Every refusal from a service becomes a message on the same page; nothing is half-done."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import (
    DESK,
    EVERYONE,
    HANDOVER_PARTIES,
    POSTAL,
    TRANSFER_PLANNERS,
    acts_as,
    can_plan_transfers,
    role_required,
)
from core.params import date_param, int_list_param, int_param
from dossiers import services as dossier_services
from dossiers.personal import mask_phone
from dossiers.selectors import dossier_for_user_or_404
from postal import forms, proofs, selectors, services, transfers
from postal.models import DeliveryAttempt, Direction, Handover, HandoverLine, ItemStatus

S = ItemStatus


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _scan_url(code: str) -> str:
    return f"{reverse('postal:scan')}?{urlencode({'code': code})}"


# --- scan screen (phones) ------------------------------------------------------------------


def next_actions(item) -> list[tuple[str, str, str]]:
    """(status, label, button style) a scan can move the item to, in the order staff use them."""
    if item.direction == Direction.RETURN and item.status in (S.ACCEPTED, S.IN_TRANSIT):
        return [(S.OUT_FOR_DELIVERY, _("Take out for delivery"), "primary")]
    if item.direction == Direction.INTAKE and item.status == S.ACCEPTED:
        return [(S.IN_TRANSIT, _("On the way to the desk"), "primary")]
    return []


def can_record_attempt(item) -> bool:
    return item.direction == Direction.RETURN and item.status in services.DELIVERABLE


@role_required(*POSTAL)
# The camera's barcode reader is WebAssembly (the vendored polyfill, for browsers without a
# native BarcodeDetector): this page alone may compile it; eval stays forbidden everywhere.
@csp_update({"script-src": ["'self'", "'wasm-unsafe-eval'"]})
def scan(request):
    form = forms.ScanForm(request.GET or None)
    item = None
    if form.is_bound and form.is_valid():
        try:
            item = services.find_item_for_scan(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error)
    context = {"form": form, "item": item}
    if item is not None:
        context.update(
            actions=next_actions(item),
            can_attempt=can_record_attempt(item),
            delivery_form=forms.DeliveryForm(),
            outcomes=DeliveryAttempt.Outcome,
            target=selectors.target_state(item),
            events=selectors.item_timeline(item),
        )
    return render(request, "postal/scan.html", context)


@role_required(*EVERYONE)
def item_detail(request, pk: int):
    item = selectors.item_for_user_or_404(request.user, pk)
    return render(
        request,
        "postal/item_detail.html",
        {
            "item": item,
            "events": selectors.item_timeline(item),
            "attempts": item.delivery_attempts.select_related("by"),
            "target": selectors.target_state(item),
        },
    )


@role_required(*POSTAL)
def deliveries(request):
    items = selectors.deliveries_for(request.user)
    today = timezone.localdate()
    if request.GET.get("due") == "today":
        items = items.filter(target_date__lte=today)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    for item in page:
        item.target = selectors.target_state(item, today)
    return render(request, "postal/deliveries.html", {"page": page, "today": today})


# --- return items from the desk ------------------------------------------------------------


@role_required(*DESK)
def return_item_create(request, dossier_id: int):
    """Hand the result to the post: the dossier page's primary action, confirmed here with
    everything pre-filled (office, tier, postage and fees, the open handover record)."""
    dossier = dossier_for_user_or_404(request.user, dossier_id)
    drafts = selectors.open_handovers(desk_unit_id=dossier.receiving_unit_id)
    form = forms.HandToPostForm(request.POST or None, dossier=dossier, open_handovers=drafts)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                handed = services.hand_to_post(dossier=dossier, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                status = 400
                _errors(request, error)
            else:
                done = {"code": handed.item.code, "number": handed.handover.number}
                if handed.handover.desk_signed_by_id:
                    message = _(
                        "Postal item %(code)s is on handover record %(number)s, signed for the desk: "
                        "the postal employee signs it on their side to take the result."
                    )
                else:
                    message = _(
                        "Postal item %(code)s created and put on handover record %(number)s: sign it "
                        "with the postal employee when they collect the result."
                    )
                messages.success(request, message % done)
                return redirect(f"{reverse('dossiers:detail', args=[dossier.pk])}#postal")
        else:
            status = 400
    else:
        office = services.default_post_office_for(dossier.receiving_unit)
        if office:
            form.initial["post_office"] = office.pk
            draft = drafts.filter(post_office=office).first()
            if draft is not None:
                form.initial["handover"] = draft.pk
        form.initial["postage"] = selectors.suggested_postage(office)
    if dossier.procedure.fee:
        form.fields["fees_collected"].help_text = _(
            "The procedure's fees are %(fee)s đồng: enter what the post collects on delivery "
            "(0 when the citizen has paid at the desk)."
        ) % {"fee": f"{dossier.procedure.fee:,}".replace(",", ".")}
    return render(
        request,
        "postal/return_item_form.html",
        {
            "form": form,
            "dossier": dossier,
            "ready": selectors.can_hand_to_post(dossier),
            "item": selectors.active_return_item(dossier),
            "masked_phone": mask_phone(dossier.applicant_phone),
        },
        status=status,
    )


# --- BCCI intake ---------------------------------------------------------------------------


@role_required(*POSTAL)
def intake_create(request):
    appointment = None
    raw_appointment = request.GET.get("appointment") or request.POST.get("appointment")
    if raw_appointment:
        appointment_id = int_param(raw_appointment)
        if appointment_id is None:
            raise Http404
        appointment = selectors.appointment_for_user_or_404(request.user, appointment_id)
    initial = {}
    if appointment:
        # The phone is never written into the page (it would be a full number on screen with no
        # access record): left empty, the appointment's phone is used.
        initial = {
            "receiving_unit": appointment.commune_id,
            "procedure": appointment.procedure_id,
            "applicant_name": appointment.citizen_name,
            "applicant_address": appointment.address,
        }
    form = forms.IntakeForm(request.POST or None, user=request.user, initial=initial, appointment=appointment)
    documents = forms.DocumentFormSet(request.POST or None, prefix="doc")
    if request.method == "POST" and form.is_valid() and documents.is_valid():
        data = dict(form.cleaned_data)
        if appointment and not data.get("applicant_phone"):
            data["applicant_phone"] = appointment.citizen_phone
        docs = [
            {"name": d["name"].strip(), "form": d["form"], "count": d["count"]}
            for d in documents.cleaned_data
            if d and d.get("name", "").strip()
        ]
        key = data.pop("submission", None)
        try:
            dossier, created = dossier_services.submit_once(
                key=key,
                by=request.user,
                create=lambda: (
                    services.receive_bcci_dossier(
                        by=request.user,
                        receiving_unit=data.pop("receiving_unit"),
                        procedure=data.pop("procedure"),
                        documents=docs,
                        appointment=appointment,
                        **data,
                    ).dossier
                ),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            item = dossier.postal_items.get(direction=Direction.INTAKE)
            if created:
                messages.success(request, _("Dossier received; item %(code)s.") % {"code": item.code})
            else:
                messages.info(
                    request,
                    _("This form was already sent: item %(code)s was received then; nothing was added.")
                    % {"code": item.code},
                )
            return redirect("postal:intake_slip", pk=item.pk)
    return render(
        request,
        "postal/intake_form.html",
        {"form": form, "documents": documents, "appointment": appointment},
    )


@role_required(*EVERYONE)
def intake_slip(request, pk: int):
    """Phiếu gửi: what the applicant and the postal employee sign at intake (printable A5)."""
    item = selectors.item_for_user_or_404(request.user, pk)
    if item.direction != Direction.INTAKE:
        raise Http404
    return render(
        request,
        "postal/intake_slip.html",
        {"item": item, "dossier": item.dossier, "documents": item.dossier.documents.all()},
    )


# --- handovers -----------------------------------------------------------------------------


@role_required(*EVERYONE)
def handover_list(request):
    handovers = selectors.handovers_visible_to(request.user)
    status = request.GET.get("status")
    if status in Handover.Status.values:
        handovers = handovers.filter(status=status)
    page = Paginator(handovers, 30).get_page(request.GET.get("page"))
    can_prepare = acts_as(request.user, HANDOVER_PARTIES)
    return render(
        request, "postal/handover_list.html", {"page": page, "status": status, "can_prepare": can_prepare}
    )


@role_required(*HANDOVER_PARTIES)
def handover_create(request):
    form = forms.HandoverForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            handover = services.create_handover(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            return redirect("postal:handover_detail", pk=handover.pk)
    return render(request, "postal/handover_form.html", {"form": form})


@role_required(*EVERYONE)
def handover_detail(request, pk: int):
    handover = selectors.handover_for_user_or_404(request.user, pk)
    side = services.signing_side(request.user, handover)
    return render(
        request,
        "postal/handover_detail.html",
        {
            "handover": handover,
            "lines": selectors.handover_lines(handover),
            "side": side,
            "editable": side is not None
            and handover.status == Handover.Status.DRAFT
            and not (handover.desk_signed_by_id or handover.post_signed_by_id),
            "can_sign": side is not None
            and handover.status == Handover.Status.DRAFT
            and not getattr(handover, f"{side}_signed_by_id"),
            "form": forms.AddLineForm(),
        },
    )


@require_POST
@role_required(*HANDOVER_PARTIES)
def handover_add_line(request, pk: int):
    handover = selectors.handover_for_user_or_404(request.user, pk)
    form = forms.AddLineForm(request.POST)
    if form.is_valid():
        try:
            line = services.add_item_to_handover(handover=handover, by=request.user, **form.cleaned_data)
            messages.success(request, _("%(code)s added.") % {"code": line.item.code})
        except ValidationError as error:
            _errors(request, error)
    return redirect("postal:handover_detail", pk=handover.pk)


@require_POST
@role_required(*HANDOVER_PARTIES)
def handover_line(request, pk: int, line_id: int):
    handover = selectors.handover_for_user_or_404(request.user, pk)
    line = get_object_or_404(
        HandoverLine.objects.select_related("item", "handover"), pk=line_id, handover=handover
    )
    try:
        if request.POST.get("action") == "remove":
            services.remove_line(line=line, by=request.user)
        else:
            services.set_line_complete(
                line=line,
                by=request.user,
                complete=request.POST.get("complete") == "1",
                note=request.POST.get("note", "")[:300],
            )
    except ValidationError as error:
        _errors(request, error)
    return redirect("postal:handover_detail", pk=handover.pk)


@require_POST
@role_required(*HANDOVER_PARTIES)
def handover_sign(request, pk: int):
    handover = selectors.handover_for_user_or_404(request.user, pk)
    try:
        handover = services.sign_handover(handover=handover, by=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        if handover.status == Handover.Status.SIGNED:
            messages.success(
                request,
                _("Handover record %(number)s is signed by both sides.") % {"number": handover.number},
            )
        else:
            messages.success(request, _("Your signature is recorded; the other side must sign now."))
    return redirect("postal:handover_detail", pk=handover.pk)


def _handover_print_context(request, pk):
    handover = selectors.handover_for_user_or_404(request.user, pk)
    lines = list(selectors.handover_lines(handover))
    if handover.direction == Handover.Direction.DESK_TO_POST:
        # The results' delivery, with the recipient's signature for those who may see it.
        show = request.user.role in (Role.POSTAL_STAFF, Role.COMMUNE_OFFICIAL)
        delivered = {
            attempt.item_id: attempt
            for attempt in DeliveryAttempt.objects.filter(
                item__in=[line.item_id for line in lines], outcome=DeliveryAttempt.Outcome.DELIVERED
            )
        }
        for line in lines:
            line.delivery = delivered.get(line.item_id)
            line.signature = proofs.data_uri(line.delivery.signature) if show and line.delivery else ""
    return {
        "handover": handover,
        "lines": lines,
        "complete_count": sum(1 for line in lines if line.complete),
        "returning_results": handover.direction == Handover.Direction.DESK_TO_POST,
        "printed_at": timezone.now(),
    }


@role_required(*EVERYONE)
def handover_print(request, pk: int):
    return render(request, "postal/handover_print.html", _handover_print_context(request, pk))


@role_required(*EVERYONE)
def handover_pdf(request, pk: int):
    from weasyprint import CSS, HTML

    context = _handover_print_context(request, pk)
    html = render_to_string("postal/handover_print.html", {**context, "pdf": True}, request=request)
    stylesheet = CSS(filename=finders.find("css/postal-print.css"))
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(stylesheets=[stylesheet])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{context["handover"].number}.pdf"'
    return response


# --- pickup appointments -------------------------------------------------------------------


@role_required(*HANDOVER_PARTIES)
def appointment_list(request):
    qs = selectors.appointments_visible_to(request.user)
    day = date_param(request.GET.get("day")) or timezone.localdate()
    mine = request.GET.get("mine") == "1" or (
        request.user.role == Role.POSTAL_STAFF and "mine" not in request.GET
    )
    start = timezone.make_aware(datetime.combine(day, time.min))
    day_qs = qs.filter(slot_start__gte=start, slot_start__lt=start + timedelta(days=1))
    if mine:
        day_qs = day_qs.filter(assigned_to=request.user)
    return render(
        request,
        "postal/appointment_list.html",
        {
            "appointments": day_qs.order_by("slot_start"),
            "day": day,
            "previous_day": day - timedelta(days=1),
            "next_day": day + timedelta(days=1),
            "mine": mine,
            "counts": selectors.appointment_counts(qs),
            "is_postal": acts_as(request.user, POSTAL),
        },
    )


@role_required(*HANDOVER_PARTIES)
def appointment_create(request):
    form = forms.AppointmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.book_appointment(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Appointment booked."))
            return redirect(
                f"{reverse('postal:appointment_list')}?day={timezone.localtime(appointment.slot_start):%Y-%m-%d}&mine=0"
            )
    return render(request, "postal/appointment_form.html", {"form": form})


@require_POST
@role_required(*HANDOVER_PARTIES)
def appointment_mark(request, pk: int):
    appointment = selectors.appointment_for_user_or_404(request.user, pk)
    try:
        services.mark_appointment(
            appointment=appointment,
            by=request.user,
            status=request.POST.get("status", ""),
            note=request.POST.get("note", "")[:300],
        )
        messages.success(request, _("Appointment updated."))
    except ValidationError as error:
        _errors(request, error)
    day = timezone.localtime(appointment.slot_start).date()
    return redirect(f"{reverse('postal:appointment_list')}?day={day:%Y-%m-%d}")


# --- task transfers ------------------------------------------------------------------------


@role_required(*TRANSFER_PLANNERS)
def transfer_matrix(request):
    field_ids = int_list_param(request.GET.getlist("field"))
    columns, rows = selectors.transfer_matrix(request.user, field_ids=field_ids or None)
    return render(
        request,
        "postal/transfer_matrix.html",
        {
            "columns": columns,
            "rows": rows,
            "progress": selectors.transfer_progress(request.user),
            "can_plan": can_plan_transfers(request.user),
        },
    )


@role_required(*TRANSFER_PLANNERS)
def transfer_create(request):
    form = forms.TransferForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            transfers.plan_transfer(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Task transfer planned."))
            return redirect("postal:transfer_matrix")
    return render(request, "postal/transfer_form.html", {"form": form})


@role_required(*TRANSFER_PLANNERS)
def transfer_detail(request, pk: int):
    transfer = selectors.transfer_for_user_or_404(request.user, pk)
    form = forms.CompleteTransferForm(request.POST or None, initial={"done_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            transfers.complete_transfer(transfer=transfer, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Task transfer marked done."))
            return redirect("postal:transfer_matrix")
    return render(
        request,
        "postal/transfer_detail.html",
        {
            "transfer": transfer,
            "form": form,
            "state": selectors.transfer_state(transfer),
            "events": transfer.events.select_related("actor"),
            "staff": transfer.staff.all(),
        },
    )
