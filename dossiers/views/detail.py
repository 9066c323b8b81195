"""A dossier's page and the workflow actions taken from it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import DESK, DOSSIER_VIEWERS, can_work_desk, role_required
from dossiers import calendar, selectors, statuses, workdays, workflow
from dossiers.forms import (
    ActionForm,
    apply_service_errors,
)
from dossiers.models import Dossier, Extension, ReturnChannel
from dossiers.personal import mask_id_number, mask_phone


def _deadline_info(dossier: Dossier) -> dict:
    today = timezone.localdate()
    info = {"overdue": False, "remaining": None}
    if dossier.due_date and dossier.status in statuses.RUNNING:
        info["overdue"] = dossier.due_date < today
        info["remaining"] = workdays.working_days_between(
            today, dossier.due_date, province=calendar.province_of(dossier.receiving_unit)
        )
    return info


@role_required(*DOSSIER_VIEWERS)
def dossier_detail(request, pk: int):
    dossier = selectors.dossier_for_user_or_404(request.user, pk)
    actions = workflow.allowed_actions(dossier) if can_work_desk(request.user) else []
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


@role_required(*DESK)
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
