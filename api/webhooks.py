"""Outbound webhooks: who hears of what, the signed messages, their delivery and retries.

Every change a subscriber may care about already appends a history row (DossierEvent, ItemEvent)
or signs a Handover; ``connect()`` follows those rows, so the screens, the API and the workers
announce changes the same way. Writes that create history rows in bulk (the API's dossier upsert)
call ``announce_dossier_events`` themselves. File imports mirror the provincial system's own
data and announce nothing.

A message is a WebhookDelivery row written in the same transaction as the change (nothing is
lost when the broker or the receiver is down), queued to Celery after commit, signed per Standard
Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) and retried with
exponential back-off for 24 hours. A delivery still failing after 24 hours disables its
subscription and tells the administrators; every attempt is logged and can be sent again from
the admin.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import mail_admins
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from api.models import (
    ApiClient,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    WeeklyRatesAnnouncement,
)
from communes import scoping

logger = logging.getLogger(__name__)

RETRY_WINDOW = timedelta(hours=24)
FIRST_RETRY_SECONDS = 30
BACKOFF_FACTOR = 4  # 30 s, 2 min, 8 min, 32 min, 2 h 8 min, 8 h 32 min, then at 24 h
TIMEOUT_SECONDS = 10
# A claimed attempt that never reported (a killed worker) may be taken again after this.
LEASE = timedelta(minutes=2)
# Subscriptions are read at most this often by each process (a new one is live within it).
CACHE_SECONDS = 10


# --- who hears of what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Listener:
    subscription_id: int
    client_id: int
    events: frozenset[str]
    unit_ids: frozenset[int] | None  # None: every unit
    office_ids: frozenset[int] | None

    def covers(self, unit_id: int | None, office_id: int | None) -> bool:
        if unit_id is None and office_id is None:
            return True
        if self.unit_ids is None or (unit_id is not None and unit_id in self.unit_ids):
            return True
        return office_id is not None and (self.office_ids is None or office_id in self.office_ids)


_listeners: tuple[float, list[Listener]] = (0.0, [])


def forget_listeners(*args, **kwargs) -> None:
    global _listeners
    _listeners = (0.0, [])


def listeners() -> list[Listener]:
    global _listeners
    loaded_at, found = _listeners
    if time.monotonic() - loaded_at < CACHE_SECONDS:
        return found
    found = []
    subscriptions = WebhookSubscription.objects.filter(is_active=True, client__revoked_at__isnull=True)
    for subscription in subscriptions.select_related("client__user"):
        user = subscription.client.user
        units, offices = scoping.unit_ids(user), scoping.post_office_ids(user)
        found.append(
            Listener(
                subscription_id=subscription.pk,
                client_id=subscription.client_id,
                events=frozenset(subscription.events),
                unit_ids=None if units is None else frozenset(units),
                office_ids=None if offices is None else frozenset(offices),
            )
        )
    _listeners = (time.monotonic(), found)
    return found


def _matching(event_type: str, unit_id, office_id, exclude_client: ApiClient | None) -> list[Listener]:
    excluded = exclude_client.pk if exclude_client is not None else None
    return [
        listener
        for listener in listeners()
        if event_type in listener.events
        and listener.client_id != excluded
        and listener.covers(unit_id, office_id)
    ]


# --- messages ---------------------------------------------------------------------------------


def emit(
    event_type: str,
    *,
    data: dict,
    unit_id: int | None = None,
    office_id: int | None = None,
    exclude_client: ApiClient | None = None,
    at: datetime | None = None,
) -> list[int]:
    """Write one delivery per matching subscription; they are sent after commit."""
    found = _matching(event_type, unit_id, office_id, exclude_client)
    return _write(found, event_type, data, at) if found else []


def _write(found: list[Listener], event_type: str, data: dict, at: datetime | None) -> list[int]:
    now = timezone.now()
    payload = {"type": event_type, "timestamp": (at or now).isoformat(), "data": data}
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription_id=listener.subscription_id,
                message_id=f"msg_{uuid.uuid4().hex}",
                event_type=event_type,
                payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
                created_at=now,
                next_attempt_at=now,
            )
            for listener in found
        ]
    )
    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: queue(ids))
    return ids


def _deliver_task():
    """The Celery task, by its name (api.tasks imports this module)."""
    from celery import current_app

    return current_app.tasks["api.deliver_webhook"]


def queue(ids: list[int]) -> None:
    """Hand deliveries to the workers; when the broker is down the sweeper sends them later."""
    for delivery_id in ids:
        try:
            _deliver_task().delay(delivery_id)
        except Exception:  # the broker is down: send_due() picks the delivery up
            logger.warning("webhook delivery %s not queued; the sweeper will send it", delivery_id)
            return


def _status_changed(from_status, to_status) -> bool:
    return to_status is not None and from_status != to_status


def dossier_data(event, dossier) -> dict:
    return {
        "code": dossier.code,
        "unit": dossier.receiving_unit.code,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "at": event.at,
    }


def announce_dossier_event(event, exclude_client: ApiClient | None = None) -> None:
    if not _status_changed(event.from_status, event.to_status):
        return
    dossier = event.dossier
    wanted = [EventType.DOSSIER_STATUS_CHANGED]
    if event.to_status == 9:  # đã xử lý xong: the result can be collected or sent
        wanted.append(EventType.DOSSIER_RESULT_READY)
    for event_type in wanted:
        found = _matching(event_type, dossier.receiving_unit_id, None, exclude_client)
        if found:
            _write(found, event_type, dossier_data(event, dossier), event.at)


def announce_dossier_events(events, exclude_client: ApiClient | None = None) -> None:
    if not listeners():
        return
    for event in events:
        announce_dossier_event(event, exclude_client)


def _dossier_event_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw and listeners():
        announce_dossier_event(instance)


def _item_event_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if not created or raw or not _status_changed(instance.from_status, instance.to_status) or not listeners():
        return
    item = instance.item
    dossier = item.dossier
    found = _matching(EventType.ITEM_STATUS_CHANGED, dossier.receiving_unit_id, item.post_office_id, None)
    if found:
        data = {
            "code": item.code,
            "dossier": dossier.code,
            "direction": item.direction,
            "action": instance.action,
            "from_status": instance.from_status or None,
            "to_status": instance.to_status,
            "at": instance.at,
        }
        _write(found, EventType.ITEM_STATUS_CHANGED, data, instance.at)


def _handover_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw or instance.status != "signed" or not listeners():
        return
    if getattr(instance, "_announced", False):
        return
    found = _matching(EventType.HANDOVER_SIGNED, instance.desk_unit_id, instance.post_office_id, None)
    if not found:
        return
    instance._announced = True
    data = {
        "number": instance.number,
        "direction": instance.direction,
        "unit": instance.desk_unit.code,
        "post_office": instance.post_office.code,
        "signed_at": instance.signed_at,
        "items": list(instance.lines.filter(complete=True).values_list("item__code", flat=True)),
    }
    _write(found, EventType.HANDOVER_SIGNED, data, instance.signed_at)


def announce_new_weekly_rates() -> int:
    """Weeks computed since the last announcement, in one message per subscription."""
    from reports.models import ComputedWeek
    from reports.weeks import week_label

    with transaction.atomic():
        mark = WeeklyRatesAnnouncement.objects.select_for_update().first()
        weeks = ComputedWeek.objects.order_by("week_start")
        if mark is not None:
            weeks = weeks.filter(computed_at__gt=mark.announced_until)
        weeks = list(weeks.values_list("week_start", "computed_at"))
        if not weeks:
            return 0
        latest = max(computed_at for _week, computed_at in weeks)
        sent = announce_weekly_rates(weeks=[week_label(week) for week, _at in weeks], computed_at=latest)
        if mark is None:
            WeeklyRatesAnnouncement.objects.create(announced_until=latest)
        else:
            mark.announced_until = latest
            mark.save(update_fields=["announced_until"])
        return sent


def announce_weekly_rates(*, weeks: list[str], computed_at: datetime) -> int:
    """One message per subscription that reads reports: which weeks are new."""
    found = _matching(EventType.WEEKLY_RATES_UPDATED, None, None, None)
    if found:
        _write(
            found, EventType.WEEKLY_RATES_UPDATED, {"weeks": weeks, "computed_at": computed_at}, computed_at
        )
    return len(found)


def connect() -> None:
    from dossiers.models import DossierEvent
    from postal.models import Handover, ItemEvent

    post_save.connect(_dossier_event_saved, sender=DossierEvent, dispatch_uid="api-webhooks-dossier-event")
    post_save.connect(_item_event_saved, sender=ItemEvent, dispatch_uid="api-webhooks-item-event")
    post_save.connect(_handover_saved, sender=Handover, dispatch_uid="api-webhooks-handover")
    post_save.connect(forget_listeners, sender=WebhookSubscription, dispatch_uid="api-webhooks-forget")
    post_delete.connect(forget_listeners, sender=WebhookSubscription, dispatch_uid="api-webhooks-forget-del")
    post_save.connect(forget_listeners, sender=ApiClient, dispatch_uid="api-webhooks-forget-client")


# --- delivery ---------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer other than 2xx: a failed attempt


_opener = urllib.request.build_opener(_NoRedirect)


def signed_request(subscription: WebhookSubscription, delivery: WebhookDelivery, now: datetime):
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    signature = Webhook(subscription.secret).sign(delivery.message_id, now, body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PostDesk-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return urllib.request.Request(subscription.url, data=body.encode(), headers=headers, method="POST")  # noqa: S310


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the attempt (one worker at a time); False when it is not due or already taken."""
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        ).update(next_attempt_at=now + LEASE)
    )


def next_attempt(delivery: WebhookDelivery, failed_at: datetime) -> datetime | None:
    """When to try again after ``delivery.attempts`` failures, or None when 24 hours are over."""
    deadline = delivery.created_at + RETRY_WINDOW
    if failed_at >= deadline:
        return None
    delay = timedelta(seconds=FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** (delivery.attempts - 1))
    return min(failed_at + delay, deadline)


def attempt(delivery_id: int) -> str | None:
    """One try of one delivery. Returns the delivery's status, or None when it was not due."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription__client").get(pk=delivery_id)
    subscription = delivery.subscription
    started = time.monotonic()
    status_code, error, excerpt = None, "", ""
    try:
        with _opener.open(signed_request(subscription, delivery, now), timeout=TIMEOUT_SECONDS) as response:
            status_code = response.status
            excerpt = response.read(300).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        excerpt = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
    except Exception as exc:  # timeouts, refused connections, TLS and DNS errors
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration = int((time.monotonic() - started) * 1000)
    finished = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration,
            response_excerpt=excerpt[:300],
        )
        delivery.attempts += 1
        if status_code is not None and 200 <= status_code < 300:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = finished
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = next_attempt(delivery, finished)
            if delivery.next_attempt_at is None:
                delivery.status = WebhookDelivery.Status.FAILED
                _disable(subscription, delivery, status_code, error)
        delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    if delivery.status == WebhookDelivery.Status.PENDING:
        _schedule_retry(delivery)
    return delivery.status


def _schedule_retry(delivery: WebhookDelivery) -> None:
    """With a broker, the retry is queued for its time; the sweeper is the safety net (and the
    only way in eager mode, where a countdown would run at once)."""
    task = _deliver_task()
    if task.app.conf.task_always_eager:
        return
    try:
        task.apply_async((delivery.pk,), eta=delivery.next_attempt_at)
    except Exception:
        logger.warning("webhook retry %s not queued; the sweeper will send it", delivery.pk)


def _disable(subscription: WebhookSubscription, delivery: WebhookDelivery, status_code, error) -> None:
    last = f"HTTP {status_code}" if status_code else error
    subscription.is_active = False
    subscription.disabled_at = timezone.now()
    subscription.disabled_note = _(
        "Disabled automatically on %(day)s: message %(message)s was refused for 24 hours "
        "(%(attempts)d attempts, last answer: %(last)s). Fix the receiver, then enable the "
        "subscription again and send the failed messages again from the list of deliveries."
    ) % {
        "day": timezone.localtime(subscription.disabled_at).strftime("%d/%m/%Y %H:%M"),
        "message": delivery.message_id,
        "attempts": delivery.attempts,
        "last": last,
    }
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_note"])
    logger.warning("webhook subscription %s disabled: %s", subscription.pk, last)
    transaction.on_commit(
        lambda: mail_admins(
            _("Webhook subscription disabled: %(client)s") % {"client": subscription.client.name},
            subscription.disabled_note,
            fail_silently=True,
        )
    )


def send_due(limit: int = 500) -> int:
    """Attempt every pending delivery whose time has come (the beat runs this every minute)."""
    due = list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__is_active=True,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in due:
        attempt(delivery_id)
    return len(due)


@transaction.atomic
def send_again(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """From the admin: the same message (same id, so receivers can de-duplicate) once more, with
    a new 24-hour window."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    now = timezone.now()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.created_at = now
    delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "created_at", "next_attempt_at"])
    transaction.on_commit(lambda: queue([delivery.pk]))
    return delivery


@transaction.atomic
def enable_again(*, subscription: WebhookSubscription) -> WebhookSubscription:
    subscription.is_active = True
    subscription.disabled_at = None
    subscription.disabled_note = ""
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_note"])
    return subscription
