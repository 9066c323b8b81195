"""Celery tasks of the API: thin, idempotent, acks_late. The beat schedule is in config/celery.py."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from api import webhooks
from api.models import IdempotencyRecord

IDEMPOTENCY_KEEP = timedelta(days=7)


@shared_task(name="api.deliver_webhook", acks_late=True, ignore_result=True)
def deliver_webhook_task(delivery_id: int) -> str | None:
    """One try of one delivery (its retries are scheduled by webhooks.attempt)."""
    return webhooks.attempt(delivery_id)


@shared_task(name="api.send_due_webhooks", acks_late=True, ignore_result=True)
def send_due_webhooks_task() -> int:
    """Deliveries whose retry time has come, or that could not be queued (broker down)."""
    return webhooks.send_due()


@shared_task(name="api.announce_weekly_rates", acks_late=True, ignore_result=True)
def announce_weekly_rates_task() -> int:
    """Tell subscribers which weeks were recomputed since the last announcement."""
    return webhooks.announce_new_weekly_rates()


@shared_task(name="api.forget_idempotency_keys", acks_late=True, ignore_result=True)
def forget_idempotency_keys_task() -> int:
    """Keys are honoured for a week, like most payment APIs; older records are deleted."""
    deleted, _detail = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - IDEMPOTENCY_KEEP
    ).delete()
    return deleted
