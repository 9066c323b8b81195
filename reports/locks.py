"""One weekly-rate computation at a time, across web processes and workers.

The lock lives in Redis when there is one (the shared cache, or else the broker's Redis), and in
the local-memory cache on a one-machine install. It expires on its own, so a killed worker
cannot block later runs for longer than LOCK_SECONDS.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

LOCK_KEY = "postdesk:reports:computation-lock"
LOCK_SECONDS = 30 * 60


class ComputationBusy(Exception):
    """Another computation of the weekly rates is running."""


def _redis_url() -> str:
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return ""  # the shared cache is Redis already: use it
    broker = settings.CELERY_BROKER_URL or ""
    return broker if broker.startswith(("redis://", "rediss://")) else ""


@contextmanager
def computation_lock(timeout: int = LOCK_SECONDS):
    token = uuid.uuid4().hex
    url = _redis_url()
    if url:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            acquired = bool(client.set(LOCK_KEY, token, nx=True, ex=timeout))
        except redis.RedisError:
            # Redis is down: the database transaction per week still keeps rows consistent.
            log.warning("computation lock unavailable (Redis down); running without it")
            client, acquired = None, True
        if not acquired:
            raise ComputationBusy
        try:
            yield
        finally:
            if client is not None:
                try:
                    if client.get(LOCK_KEY) == token.encode():
                        client.delete(LOCK_KEY)
                except redis.RedisError:
                    log.warning("computation lock not released (Redis down); it expires on its own")
        return
    if not cache.add(LOCK_KEY, token, timeout):
        raise ComputationBusy
    try:
        yield
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)
