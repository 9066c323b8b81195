"""Scoped reads of units and post offices."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts import scoping
from communes.models import AdministrativeUnit


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
