"""One weekly-rate computation at a time, across web processes and workers.

The lock lives in Redis when there is one (the shared cache, or else the broker's Redis), and in
the local-memory cache on a one-machine install. It is short-lived and kept alive by a heartbeat
thread of the process that holds it: while the computation runs, the lock is renewed every third
of its lifetime; when the process dies (a worker killed mid-run), the heartbeat dies with it and
the lock expires within REPORTS_LOCK_SECONDS, so the next run is not blocked for long.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

LOCK_KEY = "postdesk:reports:computation-lock"
# Renew only while we still own the lock (another holder may have taken it after an expiry).
_RENEW_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('expire', KEYS[1], ARGV[2])
end
return 0
"""


class ComputationBusy(Exception):
    """Another computation of the weekly rates is running."""


def lock_seconds() -> int:
    return int(getattr(settings, "REPORTS_LOCK_SECONDS", 120))


def _redis_url() -> str:
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return ""  # the shared cache is Redis already: use it
    broker = settings.CELERY_BROKER_URL or ""
    return broker if broker.startswith(("redis://", "rediss://")) else ""


@contextmanager
def _heartbeat(renew, timeout: int):
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(max(timeout / 3, 0.5)):
            try:
                renew()
            except Exception:  # a renewal that fails is retried at the next beat
                log.warning("computation lock not renewed", exc_info=True)

    thread = threading.Thread(target=beat, name="computation-lock-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@contextmanager
def computation_lock(timeout: int | None = None):
    timeout = timeout or lock_seconds()
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
        if client is None:
            yield
            return
        renew = client.register_script(_RENEW_SCRIPT)
        try:
            with _heartbeat(lambda: renew(keys=[LOCK_KEY], args=[token, timeout]), timeout):
                yield
        finally:
            try:
                if client.get(LOCK_KEY) == token.encode():
                    client.delete(LOCK_KEY)
            except redis.RedisError:
                log.warning("computation lock not released (Redis down); it expires on its own")
        return
    if not cache.add(LOCK_KEY, token, timeout):
        raise ComputationBusy
    try:
        with _heartbeat(lambda: cache.get(LOCK_KEY) == token and cache.touch(LOCK_KEY, timeout), timeout):
            yield
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)
