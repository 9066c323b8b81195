"""Scoped reads of units, post offices and the improvement plan: every page and export uses these."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from communes import scoping
from communes.models import AdministrativeUnit, NetworkAction, NetworkActionEvent, PostOffice, PostOfficeEvent


def units_for_list(user) -> QuerySet[AdministrativeUnit]:
    """Units the user may see, with how many communes and post offices each has."""
    return (
        scoping.units_visible_to(user)
        .exclude(level=AdministrativeUnit.Level.PROVINCE, children__isnull=True)
        .select_related("parent")
        .annotate(
            commune_count=Count("children", filter=Q(children__level="commune"), distinct=True),
            office_count=Count("post_offices", distinct=True),
        )
        .order_by("level", "name")
    )


def unit_for_detail(user, unit_id: int) -> AdministrativeUnit:
    """A unit in the user's scope, or 404."""
    return get_object_or_404(scoping.units_visible_to(user).select_related("parent"), pk=unit_id)


# ---------------------------------------------------------------------------------------------
# Post office network

Cultural = PostOffice.Kind.CULTURAL
ActionStatus = NetworkAction.Status

# Filter value -> the flag a service is offered under (list filter, import/export columns).
SERVICE_FLAGS = {
    "bcci_intake": "offers_bcci_intake",
    "bcci_return": "offers_bcci_return",
    "online_assistance": "offers_online_assistance",
    "digitisation": "offers_digitisation",
}


def _serving_bdvhx(prefix: str = "") -> Q:
    """A BĐVHX that serves its commune: any status but closed."""
    return Q(**{f"{prefix}kind": Cultural}) & ~Q(**{f"{prefix}status": PostOffice.Status.CLOSED})


def post_offices_for_list(user, filters: dict | None = None) -> QuerySet[PostOffice]:
    """Offices in the user's scope, filtered in the database, with what the list shows."""
    filters = filters or {}
    offices = scoping.post_offices_visible_to(user).select_related("commune", "parent")
    if filters.get("q"):
        offices = offices.filter(Q(name__icontains=filters["q"]) | Q(code__icontains=filters["q"]))
    for field in ("commune", "kind", "status", "condition", "premises"):
        if filters.get(field):
            offices = offices.filter(**{field: filters[field]})
    if filters.get("combined") in ("yes", "no"):
        offices = offices.filter(combined_with_desk=filters["combined"] == "yes")
    if filters.get("service") in SERVICE_FLAGS:
        offices = offices.filter(**{SERVICE_FLAGS[filters["service"]]: True})
    today = timezone.localdate()
    return offices.annotate(
        open_action_count=Count(
            "network_actions", filter=Q(network_actions__status__in=NetworkAction.OPEN_STATUSES)
        ),
        overdue_action_count=Count(
            "network_actions",
            filter=Q(
                network_actions__status__in=NetworkAction.OPEN_STATUSES,
                network_actions__due_date__lt=today,
            ),
        ),
    ).order_by("commune__name", "code")


def post_office_for_detail(user, office_id: int) -> PostOffice:
    """An office in the user's scope, or 404."""
    return get_object_or_404(
        scoping.post_offices_visible_to(user).select_related("commune", "parent"), pk=office_id
    )


def post_office_history(office: PostOffice) -> QuerySet[PostOfficeEvent]:
    return office.events.select_related("actor").order_by("-at", "-id")


def gap_communes(user) -> QuerySet[AdministrativeUnit]:
    """Communes in the user's scope that no BĐVHX serves, with their open actions."""
    has_bdvhx = PostOffice.objects.filter(_serving_bdvhx(), commune=OuterRef("pk"))
    return (
        scoping.communes_visible_to(user)
        .filter(~Exists(has_bdvhx))
        .select_related("parent")
        .annotate(
            open_action_count=Count(
                "network_actions",
                filter=Q(network_actions__status__in=NetworkAction.OPEN_STATUSES),
                distinct=True,
            ),
            office_count=Count("post_offices", distinct=True),
        )
        .order_by("name")
    )


def network_actions_visible_to(user) -> QuerySet[NetworkAction]:
    """Actions for offices in the user's scope, and commune-wide actions for communes in it."""
    actions = NetworkAction.objects.all()
    office_ids = scoping.post_office_ids(user)
    if office_ids is scoping.ALL:
        return actions
    return actions.filter(
        Q(post_office__isnull=True, commune_id__in=scoping.unit_ids(user)) | Q(post_office_id__in=office_ids)
    )


def overdue_q(today=None) -> Q:
    return Q(status__in=NetworkAction.OPEN_STATUSES, due_date__lt=today or timezone.localdate())


def network_actions_for_list(user, filters: dict | None = None) -> QuerySet[NetworkAction]:
    filters = filters or {}
    actions = network_actions_visible_to(user).select_related("commune", "post_office", "created_by")
    for field in ("commune", "kind", "status", "responsible", "post_office"):
        if filters.get(field):
            actions = actions.filter(**{field: filters[field]})
    if filters.get("open"):
        actions = actions.filter(status__in=NetworkAction.OPEN_STATUSES)
    if filters.get("overdue"):
        actions = actions.filter(overdue_q())
    return actions.order_by("due_date", "id")


def network_action_for_detail(user, action_id: int) -> NetworkAction:
    return get_object_or_404(
        network_actions_visible_to(user).select_related(
            "commune", "post_office", "post_office__commune", "created_by"
        ),
        pk=action_id,
    )


def network_action_history(action: NetworkAction) -> QuerySet[NetworkActionEvent]:
    return action.events.select_related("actor").order_by("at", "id")


def network_summary(user) -> dict:
    """The network page's figures: a constant number of grouped queries, whatever the size."""
    offices = scoping.post_offices_visible_to(user)
    office_counts = offices.aggregate(
        total=Count("id"),
        bdvhx=Count("id", filter=_serving_bdvhx()),
        combined=Count("id", filter=Q(combined_with_desk=True) & ~Q(status=PostOffice.Status.CLOSED)),
        with_coordinates=Count("id", filter=Q(latitude__isnull=False, longitude__isnull=False)),
        **{f"status_{value}": Count("id", filter=Q(status=value)) for value in PostOffice.Status.values},
        **{
            f"condition_{value}": Count("id", filter=Q(condition=value) & ~Q(status=PostOffice.Status.CLOSED))
            for value in PostOffice.Condition.values
        },
        staff=Sum("staff_count", filter=~Q(status=PostOffice.Status.CLOSED)),
    )
    actions = network_actions_visible_to(user)
    action_counts = actions.aggregate(
        open=Count("id", filter=Q(status__in=NetworkAction.OPEN_STATUSES)),
        overdue=Count("id", filter=overdue_q()),
        **{f"status_{value}": Count("id", filter=Q(status=value)) for value in ActionStatus.values},
    )
    communes = scoping.communes_visible_to(user).aggregate(
        total=Count("id"),
        gaps=Count(
            "id",
            filter=~Exists(PostOffice.objects.filter(_serving_bdvhx(), commune=OuterRef("pk"))),
        ),
    )
    return {
        "offices": office_counts,
        "by_status": [
            (value, label, office_counts[f"status_{value}"]) for value, label in PostOffice.Status.choices
        ],
        "by_condition": [
            (value, label, office_counts[f"condition_{value}"])
            for value, label in PostOffice.Condition.choices
        ],
        "actions": action_counts,
        "actions_by_status": [
            (value, label, action_counts[f"status_{value}"]) for value, label in ActionStatus.choices
        ],
        "communes": communes,
    }


def network_by_commune(user) -> QuerySet[AdministrativeUnit]:
    """Each commune in scope with its BĐVHX, their condition, desks and actions (one query)."""
    today = timezone.localdate()
    office_ids = scoping.post_office_ids(user)
    in_scope = Q() if office_ids is scoping.ALL else Q(post_offices__in=office_ids)
    serving = _serving_bdvhx("post_offices__") & in_scope
    open_actions = Q(network_actions__status__in=NetworkAction.OPEN_STATUSES)
    return (
        scoping.communes_visible_to(user)
        .annotate(
            bdvhx_count=Count("post_offices", filter=serving, distinct=True),
            repair_count=Count(
                "post_offices",
                filter=serving & ~Q(post_offices__condition=PostOffice.Condition.GOOD),
                distinct=True,
            ),
            combined_count=Count(
                "post_offices", filter=serving & Q(post_offices__combined_with_desk=True), distinct=True
            ),
            open_action_count=Count("network_actions", filter=open_actions, distinct=True),
            overdue_action_count=Count(
                "network_actions",
                filter=open_actions & Q(network_actions__due_date__lt=today),
                distinct=True,
            ),
        )
        .order_by("name")
    )


def offices_on_map(user) -> QuerySet[PostOffice]:
    """Offices with coordinates, for the network map (kept to what the SVG draws)."""
    return (
        scoping.post_offices_visible_to(user)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .exclude(status=PostOffice.Status.CLOSED)
        .select_related("commune")
        .only("id", "code", "name", "kind", "status", "condition", "latitude", "longitude", "commune__name")
        .order_by("code")
    )
