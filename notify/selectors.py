"""Scoped reads of the notify app."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from accounts.models import Role
from communes import scoping
from notify.models import FollowUp, Message, Rating
from notify.services import LOW_RATING, SATISFIED
from reports.rates import ratio


def messages_of(dossier) -> QuerySet[Message]:
    """A dossier's messages, in the order they were queued (the caller has scoped the dossier)."""
    return Message.objects.filter(dossier=dossier).order_by("created_at", "id")


def open_follow_ups(user) -> QuerySet[FollowUp]:
    """Low ratings the user's commune(s) must look into, oldest first."""
    return (
        scoping.filter_by_unit(FollowUp.objects.filter(status=FollowUp.Status.OPEN), user, field="unit")
        .select_related("rating__dossier", "unit")
        .order_by("created_at", "id")
    )


def follow_up_for_user_or_404(user, pk) -> FollowUp:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(scoping.filter_by_unit(FollowUp.objects.all(), user, field="unit"), pk=pk)


def sees_follow_ups(user) -> bool:
    return user.is_authenticated and user.role in (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.ADMINISTRATOR)


def satisfaction_by(unit_ids, *, start, end, group: str) -> list[dict]:
    """Answers in [start, end) about dossiers of these communes, grouped by the post office that
    delivered or the postal employee who did: counted in SQL (answers, satisfied, low, stars);
    the mean is stars / answers, the satisfaction rate satisfied / answers (never a mean of means)."""
    field = {"office": "post_office__name", "employee": "employee__full_name"}[group]
    rows = (
        Rating.objects.filter(unit_id__in=unit_ids, answered_at__gte=start, answered_at__lt=end)
        .exclude(**{f"{field.split('__')[0]}__isnull": True})
        .order_by()
        .values(field)
        .annotate(
            answers=Count("*"),
            total_stars=Sum("stars"),
            satisfied=Count("id", filter=Q(stars__gte=SATISFIED)),
            low=Count("id", filter=Q(stars__lte=LOW_RATING)),
        )
    )
    found = [
        {
            "name": row[field],
            "answers": row["answers"],
            "mean": row["total_stars"] / row["answers"],
            "satisfaction": ratio(row["satisfied"], row["answers"]),
            "low": row["low"],
        }
        for row in rows
    ]
    return sorted(found, key=lambda row: (row["mean"], row["name"] or ""))
