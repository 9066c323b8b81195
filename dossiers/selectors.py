"""Scoped reads of dossiers: every list, detail page, export and API starts here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts import scoping
from dossiers.models import Dossier


def dossiers_visible_to(user) -> QuerySet[Dossier]:
    """Dossiers received by a unit in the user's scope: a commune official's commune, a leader's
    communes, the communes a postal employee's office serves; everything for administrators."""
    return scoping.filter_by_unit(Dossier.objects.all(), user, field="receiving_unit")


def dossier_for_user_or_404(user, pk) -> Dossier:
    """One dossier in the user's scope; 404 for anything else (its existence is not disclosed)."""
    return get_object_or_404(
        dossiers_visible_to(user).select_related("procedure__field", "receiving_unit", "created_by"), pk=pk
    )
