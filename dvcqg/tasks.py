"""Thin tasks: ids in, one service call; sending an entry twice is prevented by its status."""

from celery import shared_task

from dvcqg import services


@shared_task(name="dvcqg.sync_dossier", acks_late=True)
def sync_dossier(dossier_id: int) -> int:
    return services.sync_dossier(dossier_id=dossier_id)


@shared_task(name="dvcqg.send_due", acks_late=True)
def send_due() -> int:
    return services.send_due()
