"""Which administrative units and post offices a user may see and act for.

Every selector that depends on who asks starts here, so the answer is the same on every page,
export and API:

- a commune official: their commune;
- a leader: their unit and every unit under it (a province, a district grouping, a commune);
- postal staff: their post office, and the communes it serves;
- a post manager: their office, every office under it, the communes those serve, and — when the
  manager is also given a unit (a district post's area) — every unit under it, so communes with
  no office at all still show up as gaps to plan for;
- an administrator: everything (``None`` below means "no restriction").

The sets are computed once per request and cached on the user object.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Role, User
from communes.models import AdministrativeUnit, PostOffice

ALL = None  # no restriction


def _descendants(model, root_ids: Iterable[int]) -> set[int]:
    """Ids of the roots and everything under them (trees here are a few levels deep)."""
    found = set(root_ids)
    frontier = set(found)
    while frontier:
        frontier = set(model.objects.filter(parent_id__in=frontier).values_list("id", flat=True)) - found
        found |= frontier
    return found


def post_office_ids(user: User) -> set[int] | None:
    """Post offices the user may see, or ``None`` for all."""
    cached = getattr(user, "_scope_post_office_ids", False)
    if cached is not False:
        return cached
    if not user.is_authenticated:
        result: set[int] | None = set()
    elif user.is_administrator:
        result = ALL
    elif user.role == Role.POST_MANAGER and user.post_office_id:
        result = _descendants(PostOffice, [user.post_office_id])
    elif user.role == Role.POSTAL_STAFF and user.post_office_id:
        result = {user.post_office_id}
    elif user.role in (Role.LEADER, Role.COMMUNE_OFFICIAL):
        units = unit_ids(user)
        result = set(PostOffice.objects.filter(commune_id__in=units).values_list("id", flat=True))
    else:
        result = set()
    user._scope_post_office_ids = result
    return result


def unit_ids(user: User) -> set[int] | None:
    """Administrative units the user may see, or ``None`` for all."""
    cached = getattr(user, "_scope_unit_ids", False)
    if cached is not False:
        return cached
    if not user.is_authenticated:
        result: set[int] | None = set()
    elif user.is_administrator:
        result = ALL
    elif user.role == Role.COMMUNE_OFFICIAL:
        result = {user.unit_id} if user.unit_id else set()
    elif user.role == Role.LEADER:
        result = _descendants(AdministrativeUnit, [user.unit_id]) if user.unit_id else set()
    elif user.role in (Role.POSTAL_STAFF, Role.POST_MANAGER):
        offices = post_office_ids(user)
        result = set(
            PostOffice.objects.filter(id__in=offices).values_list("commune_id", flat=True).distinct()
        )
        if user.unit_id:
            area = [user.unit_id]
            result |= _descendants(AdministrativeUnit, area) if user.role == Role.POST_MANAGER else set(area)
    else:
        result = set()
    user._scope_unit_ids = result
    return result


def forget(user: User) -> None:
    """Drop the cached scope (after creating units or offices with the same user object)."""
    for attribute in ("_scope_unit_ids", "_scope_post_office_ids"):
        user.__dict__.pop(attribute, None)


def communes_visible_to(user: User) -> QuerySet[AdministrativeUnit]:
    """Communes (level commune) in the user's scope."""
    qs = AdministrativeUnit.objects.filter(level=AdministrativeUnit.Level.COMMUNE)
    ids = unit_ids(user)
    return qs if ids is ALL else qs.filter(id__in=ids)


def units_visible_to(user: User) -> QuerySet[AdministrativeUnit]:
    qs = AdministrativeUnit.objects.all()
    ids = unit_ids(user)
    return qs if ids is ALL else qs.filter(id__in=ids)


def post_offices_visible_to(user: User) -> QuerySet[PostOffice]:
    qs = PostOffice.objects.all()
    ids = post_office_ids(user)
    return qs if ids is ALL else qs.filter(id__in=ids)


def filter_by_unit(qs: QuerySet, user: User, field: str = "unit") -> QuerySet:
    """Restrict any queryset with a foreign key to AdministrativeUnit to the user's scope."""
    ids = unit_ids(user)
    return qs if ids is ALL else qs.filter(**{f"{field}__in": ids})


def filter_by_post_office(qs: QuerySet, user: User, field: str = "post_office") -> QuerySet:
    ids = post_office_ids(user)
    return qs if ids is ALL else qs.filter(**{f"{field}__in": ids})


def ensure_unit_in_scope(user: User, unit_id: int | None) -> None:
    """404, never 403, for a unit outside the user's scope: its existence is not disclosed."""
    ids = unit_ids(user)
    if ids is not ALL and unit_id not in ids:
        raise Http404
