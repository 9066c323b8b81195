from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import NETWORK_EDITORS, NETWORK_OVERVIEW, can_edit_network, role_required
from communes import mapping, panels, scoping, selectors, services, spreadsheets
from communes.forms import (
    ActionFilterForm,
    CancelActionForm,
    CompleteActionForm,
    ImportForm,
    NetworkActionForm,
    NetworkActionUpdateForm,
    OfficeFilterForm,
    PostOfficeForm,
    add_service_errors,
)
from communes.models import NetworkAction, PostOffice


@login_required
def unit_list(request):
    query = request.GET.get("q", "").strip()
    units = selectors.units_for_list(request.user)
    if query:
        units = units.filter(name__icontains=query)
    page = Paginator(units, 50).get_page(request.GET.get("page"))
    return render(request, "communes/unit_list.html", {"page": page, "query": query})


@login_required
def unit_detail(request, pk: int):
    unit = selectors.unit_for_detail(request.user, pk)
    children = unit.children.order_by("name")
    offices = unit.post_offices.order_by("code")
    return render(
        request, "communes/unit_detail.html", {"unit": unit, "children": children, "offices": offices}
    )


# ---------------------------------------------------------------------------------------------
# Post office network

PAGE_SIZE = 50
# The SVG map stays readable and light up to a few thousand points.
MAP_LIMIT = 2000


def _page(request, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@login_required
def office_list(request):
    """The registry: every office in the user's scope, filtered in the database."""
    filter_form = OfficeFilterForm(request.GET or None, user=request.user)
    offices = selectors.post_offices_for_list(request.user, filter_form.filters())
    return render(
        request,
        "communes/office_list.html",
        {
            "page": _page(request, offices),
            "filter_form": filter_form,
            "gap_count": selectors.gap_communes(request.user).count(),
            "can_edit": can_edit_network(request.user),
            "query_string": request.GET.urlencode(),
            "today": timezone.localdate(),
        },
    )


@login_required
def office_export(request):
    """The filtered registry as XLSX, with the columns the import reads."""
    filter_form = OfficeFilterForm(request.GET or None, user=request.user)
    offices = selectors.post_offices_for_list(request.user, filter_form.filters())
    content = spreadsheets.export_post_offices(offices.iterator(chunk_size=500))
    filename = f"buu-cuc-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def office_detail(request, pk: int):
    office = selectors.post_office_for_detail(request.user, pk)
    actions = office.network_actions.order_by("-created_at")
    return render(
        request,
        "communes/office_detail.html",
        {
            "office": office,
            "children": office.children.order_by("code"),
            "actions": actions,
            "history": selectors.post_office_history(office)[:50],
            "can_edit": can_edit_network(request.user),
        },
    )


@role_required(*NETWORK_EDITORS)
def office_create(request):
    form = PostOfficeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            office = services.post_office_create(by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Post office %(code)s added.") % {"code": office.code})
            return redirect("communes:office_detail", pk=office.pk)
    return render(request, "communes/office_form.html", {"form": form, "office": None})


@role_required(*NETWORK_EDITORS)
def office_update(request, pk: int):
    office = selectors.post_office_for_detail(request.user, pk)
    form = PostOfficeForm(request.POST or None, user=request.user, instance=office)
    if request.method == "POST" and form.is_valid():
        try:
            office = services.post_office_update(office=office, by=request.user, data=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Post office %(code)s saved.") % {"code": office.code})
            return redirect("communes:office_detail", pk=office.pk)
    return render(request, "communes/office_form.html", {"form": form, "office": office})


@role_required(*NETWORK_EDITORS)
def office_import(request):
    """Upload a CSV/XLSX file of offices: all rows are saved, or none."""
    form = ImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = spreadsheets.import_post_offices(
                by=request.user, data=upload.read(), filename=upload.name
            )
        except spreadsheets.ImportFailed as failure:
            errors = failure.errors
        else:
            messages.success(
                request,
                _("Import done: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
                % vars(result),
            )
            return redirect("communes:office_list")
    return render(
        request,
        "communes/office_import.html",
        {"form": form, "errors": errors, "columns": spreadsheets.COLUMNS},
    )


@login_required
def gap_list(request):
    """Communes in scope that no BĐVHX serves."""
    return render(
        request,
        "communes/gap_list.html",
        {
            "page": _page(request, selectors.gap_communes(request.user)),
            "can_edit": can_edit_network(request.user),
        },
    )


@role_required(*NETWORK_OVERVIEW)
def network_overview(request):
    """Leaders' and post managers' page: the state of the network and of its improvement plan."""
    user = request.user
    summary = selectors.network_summary(user)
    communes = _page(request, selectors.network_by_commune(user))
    map_offices = list(selectors.offices_on_map(user)[:MAP_LIMIT])
    overdue = selectors.network_actions_for_list(user, {"overdue": True})[:10]
    return render(
        request,
        "communes/network.html",
        {
            "summary": summary,
            "page": communes,
            "map": mapping.layout(((o.latitude, o.longitude, o) for o in map_offices), label_space=110),
            "map_offices": map_offices,
            "map_truncated": len(map_offices) == MAP_LIMIT,
            "overdue_actions": overdue,
            "gaps": selectors.gap_communes(user)[:10],
            "panels": panels.render_context(request),
            "can_edit": can_edit_network(user),
            "today": timezone.localdate(),
        },
    )


@login_required
def action_list(request):
    filter_form = ActionFilterForm(request.GET or None, user=request.user)
    actions = selectors.network_actions_for_list(request.user, filter_form.filters())
    return render(
        request,
        "communes/action_list.html",
        {
            "page": _page(request, actions),
            "filter_form": filter_form,
            "can_edit": can_edit_network(request.user),
            "today": timezone.localdate(),
        },
    )


@login_required
def action_detail(request, pk: int):
    action = selectors.network_action_for_detail(request.user, pk)
    return render(
        request,
        "communes/action_detail.html",
        {
            "action": action,
            "history": selectors.network_action_history(action),
            "can_edit": can_edit_network(request.user),
            "today": timezone.localdate(),
        },
    )


@role_required(*NETWORK_EDITORS)
def action_create(request):
    initial = {"responsible": NetworkAction.Responsible.POST}
    for name, queryset in (
        ("post_office", scoping.post_offices_visible_to(request.user)),
        ("commune", scoping.communes_visible_to(request.user)),
    ):
        if request.GET.get(name, "").isdigit():
            initial[name] = get_object_or_404(queryset, pk=request.GET[name])
    if (
        initial.get("post_office") is not None
        and initial["post_office"].condition != PostOffice.Condition.GOOD
    ):
        initial["kind"] = NetworkAction.Kind.REPAIR
    elif initial.get("commune") is not None:
        initial["kind"] = NetworkAction.Kind.OPEN_POINT
    form = NetworkActionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            action = services.network_action_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Action recorded."))
            return redirect("communes:action_detail", pk=action.pk)
    return render(request, "communes/action_form.html", {"form": form, "action": None})


@role_required(*NETWORK_EDITORS)
def action_update(request, pk: int):
    action = selectors.network_action_for_detail(request.user, pk)
    form = NetworkActionUpdateForm(
        request.POST or None,
        initial={"responsible": action.responsible, "due_date": action.due_date, "notes": action.notes},
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.network_action_update(
                network_action=action, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Action saved."))
            return redirect("communes:action_detail", pk=action.pk)
    return render(request, "communes/action_form.html", {"form": form, "action": action})


@role_required(*NETWORK_EDITORS)
@require_POST
def action_start(request, pk: int):
    action = selectors.network_action_for_detail(request.user, pk)
    try:
        services.network_action_start(network_action=action, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Work on the action has started."))
    return redirect("communes:action_detail", pk=action.pk)


@role_required(*NETWORK_EDITORS)
def action_complete(request, pk: int):
    action = selectors.network_action_for_detail(request.user, pk)
    form = CompleteActionForm(request.POST or None, action=action)
    if request.method == "POST" and form.is_valid():
        try:
            services.network_action_complete(
                network_action=action,
                by=request.user,
                completed_on=form.cleaned_data["completed_on"],
                office_condition=form.cleaned_data.get("office_condition", ""),
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The action is done."))
            return redirect("communes:action_detail", pk=action.pk)
    return render(
        request,
        "communes/action_transition.html",
        {"form": form, "action": action, "title": _("Complete the action"), "button": _("Mark as done")},
    )


@role_required(*NETWORK_EDITORS)
def action_cancel(request, pk: int):
    action = selectors.network_action_for_detail(request.user, pk)
    form = CancelActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.network_action_cancel(
                network_action=action, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The action is cancelled."))
            return redirect("communes:action_detail", pk=action.pk)
    return render(
        request,
        "communes/action_transition.html",
        {"form": form, "action": action, "title": _("Cancel the action"), "button": _("Cancel the action")},
    )
