"""Background work of the dossiers app: thin tasks that call a service."""

from __future__ import annotations

from celery import shared_task

from dossiers import importing


@shared_task(name="dossiers.run_import", acks_late=True, max_retries=2, ignore_result=True)
def run_import(job_id: int) -> None:
    """Import one uploaded file; re-running a job is safe (upsert by code)."""
    importing.run_import(job_id)
