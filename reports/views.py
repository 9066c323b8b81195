"""Leaders' and commune officials' dashboards, targets, exports and recomputation requests."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import (
    DASHBOARD_READERS,
    LEADERS,
    NETWORK_OVERVIEW,
    TRANSFER_PLANNERS,
    can_lead,
    role_required,
    user_has_role,
)
from communes import scoping
from communes.models import AdministrativeUnit
from core.replica import reads_from_replica
from reports import selectors
from reports.exports import Report, to_csv, to_xlsx
from reports.forms import TargetForm
from reports.freshness import freshness, refresh_if_due
from reports.models import ComputationRun, Metric
from reports.rates import RATES, all_rates
from reports.services.aggregation import current_monday
from reports.services.runs import request_recomputation
from reports.services.targets import set_target
from reports.weeks import WeekError, parse_week, week_choices, week_label, week_text, year_weeks_until

TREND_WEEKS = 52


def related_links(user) -> list[tuple[str, str, str]]:
    """(url, icon, label) of the pages the dashboard links to, those the user may open."""
    links = [(reverse("communes:unit_list"), "geo-alt", _("Units and post offices"))]
    if user_has_role(user, NETWORK_OVERVIEW):
        links.append((reverse("communes:network"), "building", _("Post office network")))
    if user_has_role(user, TRANSFER_PLANNERS):
        links.append((reverse("postal:transfer_matrix"), "arrow-left-right", _("Task transfers")))
    links.append((reverse("dossiers:list"), "folder2-open", _("Dossiers")))
    return links


def _unit_id(request) -> int | str | None:
    raw = request.GET.get("unit") or request.POST.get("unit")
    if raw in (None, ""):
        return None
    if raw == selectors.COUNTRY:
        return raw
    try:
        return int(raw)
    except ValueError:
        raise Http404 from None


def _selected_week(request) -> date:
    """The week asked for, or the current week with a message saying why not."""
    raw = request.GET.get("week")
    current = current_monday()
    if raw is None:
        return current
    try:
        monday = parse_week(raw)
    except WeekError as exc:
        messages.error(request, str(exc))
        return current
    if monday > current:
        messages.error(
            request, _("Week %(week)s has not started yet; showing the current week.") % {"week": raw}
        )
        return current
    return monday


def _rate_value(value):
    return None if value is None else float(value)


def _trend(unit, monday: date, targets: dict) -> dict:
    series = selectors.weekly_series(unit, monday - timedelta(weeks=TREND_WEEKS - 1), monday)
    rates = [all_rates(counts) for _week, counts in series]  # once a week, not once a rate and week
    data = {
        "labels": [week_label(week) for week, _counts in series],
        "datasets": [
            {
                "label": str(Metric(definition.metric).label),
                "metric": definition.metric,
                "data": [_rate_value(week_rates[definition.metric]) for week_rates in rates],
            }
            for definition in RATES
        ],
        "targets": {metric: float(value) for metric, value in targets.items()},
        "targetLabel": _("Target"),
    }
    return data


def _overdue_link(user, unit) -> str:
    """The dossier list filtered to the late dossiers the dashboard counts (same rule)."""
    params = {"flag": "overdue"}
    if not isinstance(unit, selectors.Country) and unit.level == AdministrativeUnit.Level.COMMUNE:
        params["unit"] = unit.pk
    return f"{reverse('dossiers:list')}?{urlencode(params)}"


@role_required(*DASHBOARD_READERS)
@require_GET
@reads_from_replica
def dashboard(request):
    user = request.user
    unit = selectors.dashboard_unit(user, _unit_id(request))
    refresh_if_due()
    monday = _selected_week(request)
    current = current_monday()
    period = "ytd" if request.GET.get("period") == "ytd" else "week"
    year = monday.isocalendar()[0]
    year_first = year_weeks_until(monday)[0]
    communes_qs = selectors.ranked_units_of(unit)
    communes = list(communes_qs.only("id", "name", "parent_id", "level"))
    # The targets of the unit and of the units it ranks, in one read (inherited from the parents
    # already loaded).
    known = {c.pk: c.parent_id for c in communes}
    if not isinstance(unit, selectors.Country):
        known[unit.pk] = unit.parent_id
    all_targets = selectors.targets_for([unit.pk, *(c.pk for c in communes)], year, parents=known)
    targets = all_targets[unit.pk]
    week_figures = selectors.figures(selectors.period_counts(unit, monday, monday), targets)
    ytd_counts = selectors.period_counts(unit, year_first, monday)
    ytd_figures = selectors.figures(ytd_counts, targets)
    ranking_first = monday if period == "week" else year_first
    ranking = selectors.ranking(
        selectors.unit_rows(communes, ranking_first, monday, year, among=communes_qs, targets=all_targets)
    )
    ranked_page = Paginator(ranking.ranked, selectors.RANKING_PAGE_SIZE).get_page(
        request.GET.get("rank_page")
    )
    rows = [*ranking.ranked, *ranking.without_data]
    declines = selectors.most_declines(rows)
    today = timezone.localdate()
    params = {"unit": unit.pk, "week": week_label(monday)}
    context = {
        "unit": unit,
        "unit_choices": selectors.unit_choices(user, unit),
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "week": week_label(monday),
        "week_text": week_text(monday),
        "week_choices": week_choices(monday, current),
        "previous_week": week_label(monday - timedelta(weeks=1)),
        "next_week": week_label(monday + timedelta(weeks=1)) if monday < current else None,
        "year": year,
        "year_first": year_first,
        "year_week": monday.isocalendar()[1],
        "period": period,
        "rates": list(zip(week_figures, ytd_figures, strict=True)),
        "ytd_counts": ytd_counts,
        "rows": rows,
        "ranking_first": ranking_first,
        "ranked_page": ranked_page,
        "ranks_provinces": isinstance(unit, selectors.Country),
        "without_data": ranking.without_data,
        "without_data_names": ranking.without_data_names,
        "decline_rows": declines,
        "more_decline_rows": sum(1 for row in rows if row.declined) - len(declines),
        "trend": _trend(unit, monday, targets),
        "act_on": selectors.dossiers_to_act_on(user, unit, today),
        "overdue_url": _overdue_link(user, unit),
        "freshness": freshness(ranking_first, monday),
        "run": selectors.latest_run(),
        "can_recompute": can_lead(user),
        "can_export": can_lead(user),
        "query": urlencode(params),
        "period_query": urlencode({**params, "period": period}),
        "links": related_links(user),
        "week_over": monday < current,
    }
    return render(request, "reports/dashboard.html", context)


@role_required(*LEADERS)
@require_POST
def recompute(request):
    """Queue a recomputation of the selected week's year to date; answer with its progress."""
    unit = selectors.dashboard_unit(request.user, _unit_id(request))
    try:
        last = min(parse_week(request.POST.get("week")), current_monday())
    except WeekError as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('reports:dashboard')}?{urlencode({'unit': unit.pk})}")
    first = year_weeks_until(last)[0]
    run, queued = request_recomputation(by=request.user, first_week=first, last_week=last)
    if not queued:
        computed = selectors.computed_at(first, last)
        as_of = date_format(timezone.localtime(computed), "SHORT_DATETIME_FORMAT") if computed else _("never")
        messages.warning(
            request,
            _(
                "The recomputation could not be queued: the task queue is unavailable. It will run "
                "when the queue is back; the figures shown are those computed at %(at)s."
            )
            % {"at": as_of},
        )
    elif run.status == ComputationRun.Status.DONE:
        messages.success(request, _("The figures have been recomputed."))
    else:
        messages.info(request, _("Recomputation queued; its progress is shown below."))
    if request.headers.get("HX-Request"):
        return render(request, "reports/fragment_run_status.html", {"run": run, "poll": True})
    return redirect(
        f"{reverse('reports:dashboard')}?{urlencode({'unit': unit.pk, 'week': week_label(last)})}"
    )


@role_required(*DASHBOARD_READERS)
@require_GET
def run_status(request, pk: int):
    # A run is its requester's (and administrators'); anyone else gets 404, not its progress.
    runs = ComputationRun.objects.all()
    if not request.user.is_administrator:
        runs = runs.filter(requested_by=request.user)
    run = get_object_or_404(runs, pk=pk)
    return render(request, "reports/fragment_run_status.html", {"run": run, "poll": True})


@role_required(*LEADERS)
def targets(request):
    user = request.user
    if request.method == "POST":
        unit_id = _unit_id(request)
        if unit_id is not None:
            scoping.ensure_unit_in_scope(user, unit_id)
        form = TargetForm(request.POST, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                set_target(
                    unit=data["unit"], year=data["year"], metric=data["metric"], value=data["value"], by=user
                )
            except ValidationError as exc:
                for field_name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field_name if field_name in form.fields else None, error)
            else:
                messages.success(request, _("Target saved."))
                return redirect("reports:targets")
    else:
        form = TargetForm(user=user)
    page = Paginator(selectors.targets_visible_to(user), 50).get_page(request.GET.get("page"))
    return render(request, "reports/targets.html", {"form": form, "page": page})


@role_required(*LEADERS)
@require_GET
def exports(request):
    unit = selectors.dashboard_unit(request.user, _unit_id(request))
    monday = _selected_week(request)
    return render(
        request,
        "reports/exports.html",
        {
            "unit": unit,
            "unit_choices": selectors.unit_choices(request.user, unit),
            "week": week_label(monday),
            "query": urlencode({"unit": unit.pk, "week": week_label(monday)}),
        },
    )


def build_report(user, unit_id: int | None, monday: date, kind: str) -> Report:
    unit = selectors.dashboard_unit(user, unit_id)
    year = monday.isocalendar()[0]
    first = monday if kind == "weekly" else year_weeks_until(monday)[0]
    communes = [c for c in selectors.communes_of(unit) if c.pk != unit.pk]
    rows = selectors.unit_rows([*communes, unit], first, monday, year)
    return Report(
        kind=kind,
        unit_name=unit.name,
        first_week=first,
        last_week=monday,
        computed_at=selectors.computed_at(first, monday),
        lines=rows[:-1],
        total=rows[-1],
    )


@role_required(*LEADERS)
@require_GET
@reads_from_replica
def export(request, kind: str, fmt: str):
    if kind not in ("weekly", "ytd") or fmt not in ("xlsx", "csv"):
        raise Http404
    raw_week = request.GET.get("week")
    try:
        monday = parse_week(raw_week) if raw_week else current_monday()
    except WeekError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    refresh_if_due()
    report = build_report(request.user, _unit_id(request), monday, kind)
    filename = f"bao-cao-{'tuan' if kind == 'weekly' else 'luy-ke'}-{week_label(monday)}"
    if fmt == "xlsx":
        response = HttpResponse(
            to_xlsx(report), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        response = HttpResponse(to_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
