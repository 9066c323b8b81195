"""Pages of the dossiers app: thin — selectors read, services and the workflow write."""

from __future__ import annotations

import csv
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import scoping
from accounts.models import Role
from accounts.permissions import role_required, user_has_role
from communes.models import AdministrativeUnit
from core.spreadsheets import safe_row
from dossiers import importing, printing, selectors, services, tracking, workdays, workflow
from dossiers.forms import (
    ActionForm,
    DocumentFormSet,
    DossierFilterForm,
    ImportForm,
    IntakeForm,
    TrackingForm,
    apply_service_errors,
    documents_initial,
)
from dossiers.models import Dossier, Extension, ImportJob, IntakeChannel, Procedure, ReturnChannel, Status
from dossiers.personal import mask_id_number, mask_phone

logger = logging.getLogger(__name__)

VIEW_ROLES = (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POSTAL_STAFF, Role.POST_MANAGER)
DESK_ROLES = (Role.COMMUNE_OFFICIAL,)
EXPORT_LIMIT = 200_000


def can_act(user) -> bool:
    return user_has_role(user, DESK_ROLES)


# --- list and export -------------------------------------------------------------------------


def _filters(request):
    communes = selectors.visible_communes(request.user)
    form = DossierFilterForm(request.GET or None, communes=communes)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, filters


@role_required(*VIEW_ROLES)
def dossier_list(request):
    form, filters = _filters(request)
    page = selectors.keyset_page(
        selectors.dossier_list(request.user, filters).only(*LIST_COLUMNS),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    return render(
        request,
        "dossiers/dossier_list.html",
        {
            "form": form,
            "page": page,
            "rows": _list_rows(page.rows),
            "query": query.urlencode(),
            "can_act": can_act(request.user),
        },
    )


# What a list row prints: the procedure's JSON document list and the applicant's contact details
# are not read for 50 rows that do not show them.
LIST_COLUMNS = (
    "code",
    "applicant_name",
    "received_at",
    "due_date",
    "status",
    "return_channel",
    "procedure__name",
    "receiving_unit__name",
)


@dataclass(slots=True)
class ListRow:
    """One line of the dossier list, ready to print: the template only writes these strings."""

    url: str
    code: str
    applicant: str
    procedure: str
    received: str
    due: str
    overdue: bool
    status: int
    status_label: str
    status_badge: str
    return_label: str


def _list_rows(dossiers: list[Dossier]) -> list[ListRow]:
    """The page's rows formatted in Python: a list page of 50 rows costs a few milliseconds
    instead of the template engine resolving, filtering and translating each cell."""
    today = timezone.localdate()
    statuses = {value: str(label) for value, label in Status.choices}
    returns = {value: str(label) for value, label in ReturnChannel.choices}
    rows = []
    for dossier in dossiers:
        received = timezone.localtime(dossier.received_at) if dossier.received_at else None
        due = dossier.due_date
        rows.append(
            ListRow(
                url=reverse("dossiers:detail", args=[dossier.pk]),
                code=dossier.code,
                applicant=dossier.applicant_name,
                procedure=dossier.procedure.name,
                received=received.strftime("%d/%m/%Y %H:%M") if received else "—",
                due=due.strftime("%d/%m/%Y") if due else "—",
                overdue=bool(due and due < today and dossier.status in selectors.RUNNING_STATUSES),
                status=dossier.status,
                status_label=statuses.get(dossier.status, str(dossier.status)),
                status_badge=dossier.status_badge,
                return_label=returns.get(dossier.return_channel, dossier.return_channel),
            )
        )
    return rows


EXPORT_HEADER = [
    "ma_ho_so",
    "ma_thu_tuc",
    "ten_thu_tuc",
    "ma_don_vi",
    "don_vi",
    "ho_ten_nguoi_nop",
    "so_dien_thoai",
    "so_dinh_danh",
    "kenh_tiep_nhan",
    "hinh_thuc_tra_ket_qua",
    "ly_do_khong_nhan_qua_bcci",
    "trang_thai",
    "ngay_tiep_nhan",
    "ngay_hen_tra",
    "ngay_ket_thuc_xu_ly",
    "ngay_tra_ket_qua",
    "tien_do",
]


def _export_rows(qs):
    def moment(value):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else ""

    def day(value):
        return value.strftime("%d/%m/%Y") if value else ""

    for dossier in qs.iterator(chunk_size=2000):
        yield [
            dossier.code,
            dossier.procedure.national_code,
            dossier.procedure.name,
            dossier.receiving_unit.code,
            dossier.receiving_unit.name,
            dossier.applicant_name,
            mask_phone(dossier.applicant_phone),
            mask_id_number(dossier.applicant_id_number),
            dossier.intake_channel,
            dossier.return_channel,
            dossier.decline_reason,
            dossier.status,
            moment(dossier.received_at),
            day(dossier.due_date),
            moment(dossier.finished_at),
            moment(dossier.returned_at),
            dossier.timeliness,
        ]


class _Echo:
    def write(self, value):
        return value


@role_required(*VIEW_ROLES)
def dossier_export(request, fmt: str):
    """The filtered list as CSV (streamed) or XLSX; identity numbers and phones masked."""
    _form, filters = _filters(request)
    qs = selectors.dossier_list(request.user, filters).order_by("-received_at", "-id")[:EXPORT_LIMIT]
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "csv":
        writer = csv.writer(_Echo())

        def stream():
            yield "\ufeff"  # so spreadsheet programs read UTF-8
            yield writer.writerow(EXPORT_HEADER)
            for row in _export_rows(qs):
                yield writer.writerow(safe_row(row))

        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="ho-so-{stamp}.csv"'
        return response
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Dossiers"))
    sheet.append(EXPORT_HEADER)
    for row in _export_rows(qs):
        sheet.append(safe_row(row, sheet=sheet))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"ho-so-{stamp}.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- intake ----------------------------------------------------------------------------------


def _receiving_unit(request, form) -> AdministrativeUnit | None:
    user = request.user
    if "receiving_unit" in form.fields:
        unit = form.cleaned_data.get("receiving_unit")
        if unit is not None:
            scoping.ensure_unit_in_scope(user, unit.pk)
        return unit
    return user.unit


@role_required(*DESK_ROLES)
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
        {"form": form, "formset": formset, "preview": _preview(request.POST or None)},
    )


def _preview(data) -> dict:
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
    return {
        "procedure": procedure,
        "error": error,
        "received_at": moment,
        "due_date": None if error else workdays.due_date(moment, procedure.processing_days),
        "after_cutoff": not error and workdays.counting_start(moment) != workdays.local_date(moment),
    }


@role_required(*DESK_ROLES)
def intake_preview(request):
    return render(request, "dossiers/fragment_due_date.html", {"preview": _preview(request.GET)})


@role_required(*DESK_ROLES)
def intake_documents(request):
    procedure = Procedure.objects.filter(pk=request.GET.get("procedure") or None, active=True).first()
    formset = DocumentFormSet(prefix="documents", initial=documents_initial(procedure))
    return render(request, "dossiers/fragment_documents.html", {"formset": formset})


# --- detail and actions ----------------------------------------------------------------------


def _deadline_info(dossier: Dossier) -> dict:
    today = timezone.localdate()
    info = {"overdue": False, "remaining": None}
    if dossier.due_date and dossier.status in selectors.RUNNING_STATUSES:
        info["overdue"] = dossier.due_date < today
        info["remaining"] = workdays.working_days_between(today, dossier.due_date)
    return info


@role_required(*VIEW_ROLES)
def dossier_detail(request, pk: int):
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    actions = workflow.allowed_actions(dossier) if can_act(request.user) else []
    # Postal deliveries are handled by the postal app; here only desk and online returns.
    return render(
        request,
        "dossiers/dossier_detail.html",
        {
            "dossier": dossier,
            "documents": dossier.documents.all(),
            "events": selectors.timeline(dossier),
            "supplements": dossier.supplement_requests.select_related("requested_by").order_by(
                "requested_at"
            ),
            "extension": Extension.objects.filter(dossier=dossier).select_related("issued_by").first(),
            "actions": [(name, workflow.ACTION_LABELS[name]) for name in actions],
            "deadline": _deadline_info(dossier),
            "masked_id": mask_id_number(dossier.applicant_id_number),
            "masked_phone": mask_phone(dossier.applicant_phone),
        },
    )


ACTION_CALLS = {
    "accept": lambda d, u, c, v: workflow.accept(dossier=d, by=u, at=c["at"], expected_version=v),
    "refuse": lambda d, u, c, v: workflow.refuse(dossier=d, by=u, reason=c["reason"], expected_version=v),
    "start": lambda d, u, c, v: workflow.start_processing(dossier=d, by=u, expected_version=v),
    "request_supplement": lambda d, u, c, v: workflow.request_supplement(
        dossier=d, by=u, items=c["items"], expected_version=v
    ),
    "complete_supplement": lambda d, u, c, v: workflow.complete_supplement(
        dossier=d, by=u, note=c.get("note", ""), expected_version=v
    ),
    "request_payment": lambda d, u, c, v: workflow.request_payment(
        dossier=d, by=u, amount=c["amount"], note=c.get("note", ""), expected_version=v
    ),
    "confirm_payment": lambda d, u, c, v: workflow.confirm_payment(
        dossier=d, by=u, note=c.get("note", ""), expected_version=v
    ),
    "extend": lambda d, u, c, v: workflow.extend(
        dossier=d, by=u, reason=c["reason"], new_due_date=c["new_due_date"], expected_version=v
    ),
    "withdraw": lambda d, u, c, v: workflow.withdraw(
        dossier=d, by=u, reason=c.get("reason", ""), expected_version=v
    ),
    "stop": lambda d, u, c, v: workflow.stop(dossier=d, by=u, reason=c["reason"], expected_version=v),
    "finish": lambda d, u, c, v: workflow.finish(dossier=d, by=u, note=c.get("note", ""), expected_version=v),
    "return_result": lambda d, u, c, v: workflow.return_result(
        dossier=d, by=u, channel=c["channel"], expected_version=v
    ),
}


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def dossier_action(request, pk: int, action: str):
    if action not in ACTION_CALLS:
        raise Http404
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    status = 200
    stale = False
    if request.method == "POST":
        form = ActionForm(request.POST, action=action)
        if form.is_valid():
            try:
                ACTION_CALLS[action](dossier, request.user, form.cleaned_data, form.cleaned_data["version"])
            except workflow.StaleDossier as error:
                stale = True
                status = 409
                form.add_error(None, error)
                dossier.refresh_from_db()
            except ValidationError as error:
                status = 400
                for message in apply_service_errors(
                    form, error, field_map={"at": "at", "channel": "channel"}
                ):
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("%(action)s: done for dossier %(code)s.")
                    % {"action": workflow.ACTION_LABELS[action], "code": dossier.code},
                )
                return redirect("dossiers:detail", pk=dossier.pk)
        else:
            status = 400
    else:
        initial = {"version": dossier.version}
        if action == "return_result":
            initial["channel"] = (
                dossier.return_channel if dossier.return_channel != ReturnChannel.BCCI else ReturnChannel.DESK
            )
        form = ActionForm(initial=initial, action=action)
    return render(
        request,
        "dossiers/dossier_action.html",
        {
            "dossier": dossier,
            "form": form,
            "action": action,
            "label": workflow.ACTION_LABELS[action],
            "allowed": action in workflow.allowed_actions(dossier),
            "stale": stale,
        },
        status=status,
    )


# --- printing --------------------------------------------------------------------------------


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


@role_required(*VIEW_ROLES)
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


@role_required(*VIEW_ROLES)
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


# --- import ----------------------------------------------------------------------------------


def _jobs_of(user):
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if user.is_administrator else jobs.filter(created_by=user)


@role_required(*DESK_ROLES)
@require_http_methods(["GET", "POST"])
def import_upload(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importing.MAX_FILE_BYTES:
            form.add_error(
                "file",
                _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": importing.MAX_FILE_BYTES // 2**20},
            )
        else:
            job = importing.create_job(by=request.user, uploaded_file=upload, mode=form.cleaned_data["mode"])
            if job.size <= importing.INLINE_IMPORT_BYTES:
                importing.run_import(job.pk)
            else:
                _queue_import(job)
            return redirect("dossiers:import_detail", pk=job.pk)
    return render(
        request,
        "dossiers/import_upload.html",
        {"form": form, "jobs": _jobs_of(request.user)[:10]},
    )


def _queue_import(job: ImportJob) -> None:
    from dossiers.tasks import queue_import

    # With the broker down the job waits and is sent by the periodic task once it is back.
    transaction.on_commit(lambda: queue_import(job.pk))


def _job_for(request, pk: int) -> ImportJob:
    return get_object_or_404(_jobs_of(request.user), pk=pk)


@role_required(*DESK_ROLES)
def import_detail(request, pk: int):
    return render(request, "dossiers/import_detail.html", {"job": _job_for(request, pk)})


@role_required(*DESK_ROLES)
def import_status(request, pk: int):
    return render(request, "dossiers/fragment_import_status.html", {"job": _job_for(request, pk)})


@role_required(*DESK_ROLES)
def import_template(request):
    """An empty CSV with the expected columns."""
    response = HttpResponse(
        "\ufeff" + ",".join(importing.COLUMNS) + "\r\n", content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-ho-so.csv"'
    return response


# --- public tracking -------------------------------------------------------------------------


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
