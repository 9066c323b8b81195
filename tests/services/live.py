"""Helpers for tests that run gunicorn and Celery workers against the test's own database.

The test database is the one pytest-django created; tests using it are marked
``django_db(transaction=True)`` so their rows are committed and the subprocesses see them.
SQLite's in-memory test database cannot be shared, so these tests skip there, saying why.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.db import connection
from django.test import Client

from tests.services.private import BASE, service_env

CSRF = "loadtestcsrftokenloadtestcsrf32"[:32].ljust(32, "x")


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL): subprocesses cannot share an in-memory SQLite test database"
        )


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def env_for(broker_url: str = "", **extra: str) -> dict:
    # No CACHE_URL: the lookup rate limit and locks use the local cache or the broker's Redis.
    return service_env(DATABASE_URL=database_url(), CELERY_BROKER_URL=broker_url, CACHE_URL="", **extra)


def session_cookies(user) -> dict[str, str]:
    """A logged-in session for `user`, without a password round trip (hashers differ in tests)."""
    client = Client()
    client.force_login(user)
    return {"sessionid": client.cookies["sessionid"].value, "csrftoken": CSRF}


def start_worker(env: dict, *, queue: str = "celery") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "-Q", queue, "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=BASE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not reached in {timeout} s")
