"""The shared cache on Redis, degrading instead of failing when Redis is down.

Everything PostDesk keeps in the cache can be rebuilt from the database (calendar overrides) or
has a database fallback (locks: reports.locks). So when Redis does not answer, a read is a miss
and a write is skipped, after at most the socket timeouts below — pages keep answering. Redis
being down is logged, once per failing call.
"""

from __future__ import annotations

import functools
import logging

from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What a cache call raises when Redis does not answer (for the callers of incr/decr)."""
    return _redis_errors()


def _degrade(default_from_args):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except _redis_errors() as error:
                log.warning("cache unavailable (%s): %s skipped", type(error).__name__, method.__name__)
                return default_from_args(*args, **kwargs)

        return call

    return wrap


def _miss(key, default=None, version=None):
    return default


class ResilientRedisCache(RedisCache):
    """django's RedisCache with short socket timeouts, whose reads miss and writes are skipped
    while Redis is unreachable. ``incr``/``decr`` still raise: a counter has no safe default."""

    def __init__(self, server, params):
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, params)

    get = _degrade(_miss)(RedisCache.get)
    get_many = _degrade(lambda keys, version=None: {})(RedisCache.get_many)
    has_key = _degrade(lambda key, version=None: False)(RedisCache.has_key)
    set = _degrade(lambda *args, **kwargs: None)(RedisCache.set)
    set_many = _degrade(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    add = _degrade(lambda *args, **kwargs: False)(RedisCache.add)
    touch = _degrade(lambda *args, **kwargs: False)(RedisCache.touch)
    delete = _degrade(lambda *args, **kwargs: False)(RedisCache.delete)
    delete_many = _degrade(lambda *args, **kwargs: None)(RedisCache.delete_many)
