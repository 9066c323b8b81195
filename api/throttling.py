"""Per-client rate limits: a fixed one-minute window counted in the cache.

Set CACHE_URL (Redis) in production so that every web worker counts in the same place; with the
local-memory cache each worker counts for itself.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from api.authentication import client_of
from core.cache import unavailable_errors

log = logging.getLogger(__name__)

# Signed-in people reading through the browser: a generous fixed limit.
SESSION_RATE_PER_MINUTE = 120


class ClientRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        client = client_of(request)
        if client is not None:
            who, limit = f"c{client.pk}", client.rate_per_minute
        elif request.user and request.user.is_authenticated:
            who, limit = f"u{request.user.pk}", SESSION_RATE_PER_MINUTE
        else:
            return True  # refused by authentication anyway
        now = time.time()
        window = int(now // 60)
        key = f"api-rate:{who}:{window}"
        try:
            if cache.add(key, 1, timeout=70):
                count = 1
            else:
                try:
                    count = cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, timeout=70)
                    count = 1
        except unavailable_errors():
            # Redis down: the API keeps answering its (token-holding) clients rather than
            # failing them all; the limit applies again when Redis is back (docs/api.md).
            log.warning("rate limit not counted: the cache is unavailable")
            count = 1
        self.limit, self.remaining = limit, max(limit - count, 0)
        self.reset = int(60 - now % 60) + 1
        request.rate_limit = (self.limit, self.remaining, self.reset)
        return count <= limit

    def wait(self) -> float:
        return float(self.reset)
