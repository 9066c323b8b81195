"""Thin tasks: ids in, one service call, idempotent (a sent message is skipped)."""

from celery import shared_task

from notify import services


@shared_task(name="notify.send_message", acks_late=True)
def send_message(message_id: int) -> None:
    services.send(message_id=message_id)


@shared_task(name="notify.send_due_messages", acks_late=True)
def send_due_messages() -> int:
    return services.send_due()
