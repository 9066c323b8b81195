"""The Celery app. Tasks live in each app's tasks.py; the beat schedule is kept here, in code."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("postdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# One entry per periodic job, with why it runs when it does. Apps add theirs through
# BEAT_SCHEDULE below so the whole schedule reads in one place.
app.conf.beat_schedule = {}


@app.task(name="config.ping")
def ping() -> str:
    """Round trip used by /healthz checks and the real-broker test."""
    return "pong"
