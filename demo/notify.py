"""Demo messages and ratings: the citizens of the most recent results delivered by post got
their messages (in the outbox, as without an SMS account) and some rated the service, a few
badly — so the dossier page, the commune's home page and the dashboard show something."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from demo.communes import COMMUNE_CODES
from dossiers.models import Dossier, ReturnChannel, Status
from notify import services
from notify.models import Channel, Event, FollowUp, Message, MessageStatus, Rating
from postal.models import Direction, ItemStatus, PostalItem

DEMO_DELIVERIES = 300
# Stars as citizens gave them: mostly content, some not.
STARS = [5] * 45 + [4] * 30 + [3] * 12 + [2] * 8 + [1] * 5


def seed(*, options, stdout) -> None:
    rng = random.Random(options.get("seed", 2026))
    items = list(
        PostalItem.objects.filter(
            direction=Direction.RETURN,
            status=ItemStatus.DELIVERED,
            dossier__status=Status.RETURNED,
            dossier__return_channel=ReturnChannel.BCCI,
            dossier__receiving_unit__code__in=COMMUNE_CODES,
        )
        .filter(~Q(dossier__applicant_phone=""))
        .select_related("dossier__procedure", "dossier__receiving_unit", "post_office")
        .order_by("-delivered_at")[:DEMO_DELIVERIES]
    )
    done = set(
        Rating.objects.filter(dossier__in=[i.dossier_id for i in items]).values_list("dossier_id", flat=True)
    )
    messages, ratings = [], []
    for item in items:
        dossier: Dossier = item.dossier
        if dossier.pk in done:
            continue
        delivered = item.delivered_at
        rating = Rating(
            dossier=dossier,
            token=secrets.token_urlsafe(12),
            unit_id=dossier.receiving_unit_id,
            post_office_id=item.post_office_id,
            employee_id=item.delivery_attempts.filter(outcome="delivered")
            .values_list("by_id", flat=True)
            .first(),
            created_at=delivered,
            expires_at=delivered + services.RATING_VALID_FOR,
        )
        if rng.random() < 0.6:
            rating.stars = rng.choice(STARS)
            rating.answered_at = min(delivered + timedelta(hours=rng.randint(1, 72)), timezone.now())
        ratings.append(rating)
        moments = {
            Event.RECEIVED: dossier.received_at,
            Event.RESULT_READY: dossier.finished_at,
            # Between the end of processing and the delivery: when the record was signed.
            Event.HANDED_TO_POST: dossier.finished_at
            and dossier.finished_at + (delivered - dossier.finished_at) / 2,
            Event.DELIVERED: delivered,
        }
        for event, at in moments.items():
            text, params = services.compose(
                event, dossier, item=item if event != Event.RECEIVED else None, rating=rating
            )
            messages.append(
                Message(
                    dossier=dossier,
                    event=event,
                    channel=Channel.SMS,
                    status=MessageStatus.OUTBOX,
                    phone=dossier.applicant_phone,
                    text=text,
                    params=params,
                    attempts=1,
                    created_at=at or delivered,
                    sent_at=at or delivered,
                )
            )
    Rating.objects.bulk_create(ratings, ignore_conflicts=True)
    Message.objects.bulk_create(messages, ignore_conflicts=True)
    low = Rating.objects.filter(stars__lte=services.LOW_RATING, follow_up__isnull=True)
    FollowUp.objects.bulk_create(
        [FollowUp(rating=r, unit_id=r.unit_id, created_at=r.answered_at) for r in low], ignore_conflicts=True
    )
    answered = sum(1 for r in ratings if r.stars)
    stdout.write(
        f"Demo notices: {len(messages)} messages in the outbox, {answered} ratings of {len(ratings)} asked."
    )
