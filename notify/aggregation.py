"""Satisfaction as weekly counters of reports.WeeklyRate (registered in NotifyConfig.ready()):
answers received in the week, by the commune that received the dossier."""

from __future__ import annotations

from django.db.models import Count, Q, Sum

from notify.models import Rating
from notify.services import LOW_RATING, SATISFIED
from reports.services.aggregation import Span, by_week


def rating_counts(span: Span):
    return by_week(
        span,
        Rating.objects.filter(answered_at__gte=span.start, answered_at__lt=span.end),
        "unit_id",
        "answered_at",
        ratings=Count("*"),
        ratings_satisfied=Count("id", filter=Q(stars__gte=SATISFIED)),
        rating_stars=Sum("stars"),
        ratings_low=Count("id", filter=Q(stars__lte=LOW_RATING)),
    )
