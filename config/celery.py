"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is kept here, in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("postdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One entry per periodic job, with why it runs when it does. Apps add theirs through
# BEAT_SCHEDULE below so the whole schedule reads in one place.
app.conf.beat_schedule = {
    # Reports: the week in progress, so dashboards are at most 15 minutes old.
    "reports-refresh-current-week": {
        "task": "reports.refresh_current_week",
        "schedule": crontab(minute="*/15"),
    },
    # Reports: the weeks writes marked, every minute, so a change reaches the dashboards within a
    # minute even when the recount queued after the write was lost (reports/freshness.py); also
    # recomputations that could not be queued while the broker was down. Cheap when nothing is
    # marked: one query.
    "reports-process-dirty-weeks": {
        "task": "reports.process_dirty_weeks",
        "schedule": crontab(minute="*"),
    },
    # Reports: last week finalised on Monday night, after Monday's late entries for it.
    "reports-finalise-previous-week": {
        "task": "reports.finalise_previous_week",
        "schedule": crontab(hour=23, minute=30, day_of_week="mon"),
    },
    # Dossiers: imports uploaded while the broker was down are sent once it answers again.
    "dossiers-resend-deferred-imports": {
        "task": "dossiers.resend_deferred_imports",
        "schedule": crontab(minute="*/5"),
    },
    # Dossiers: imports whose worker died are marked failed (and can be started again).
    "dossiers-fail-stalled-imports": {
        "task": "dossiers.fail_stalled_imports",
        "schedule": crontab(minute="*/5"),
    },
    # Reports: the last 8 weeks every night, so late entries and corrections are counted.
    "reports-recompute-recent-weeks": {
        "task": "reports.recompute_recent_weeks",
        "schedule": crontab(hour=2, minute=15),
    },
    # Notify: citizens' messages whose retry is due (back-off from 1 to 60 minutes), and those
    # queued while the broker was down.
    "notify-send-due-messages": {
        "task": "notify.send_due_messages",
        "schedule": crontab(minute="*"),
    },
    # Dvcqg: national portal entries whose retry is due, in order per dossier.
    "dvcqg-send-due": {
        "task": "dvcqg.send_due",
        "schedule": crontab(minute="*"),
    },
    # API: webhook deliveries whose retry is due, or that could not be queued (broker down).
    "api-send-due-webhooks": {
        "task": "api.send_due_webhooks",
        "schedule": crontab(minute="*"),
    },
    # API: tell webhook subscribers which weeks were recomputed; after the 15-minute refresh.
    "api-announce-weekly-rates": {
        "task": "api.announce_weekly_rates",
        "schedule": crontab(minute="5,20,35,50"),
    },
    # API: Idempotency-Key records are kept a week.
    "api-forget-idempotency-keys": {
        "task": "api.forget_idempotency_keys",
        "schedule": crontab(hour=3, minute=40),
    },
}


@app.task(name="config.ping", ignore_result=False)
def ping() -> str:
    """Round trip used by /healthz checks and the real-broker test."""
    return "pong"
