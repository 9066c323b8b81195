"""The citizens' public lookup: a dossier code plus the PIN printed on the receipt.

No personal data is shown. "No such code" and "wrong PIN" get the same answer, and each client
address may try only ``LIMIT`` lookups per ``WINDOW`` seconds (a counter in the shared cache).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from dossiers.models import Dossier

LIMIT = 20
WINDOW = 600  # seconds


def client_address(request) -> str:
    """The client's address, trusting as many X-Forwarded-For hops as PROXY_COUNT says."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0) or 0
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def rate_limited(request) -> bool:
    """Count this attempt; True when the address has used up its attempts for the window."""
    window = int(time.time() // WINDOW)
    key = f"dossiers:track:{client_address(request)}:{window}"
    cache.add(key, 0, timeout=WINDOW + 5)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW + 5)
        attempts = 1
    return attempts > LIMIT


def find(code: str, pin: str) -> Dossier | None:
    """The dossier when code and PIN match, else None (the same for both failures)."""
    code = (code or "").strip()
    candidates = {code, code.upper()}
    dossier = Dossier.objects.select_related("procedure").filter(code__in=candidates).first()
    expected = dossier.tracking_pin if dossier else "000000"
    matches = hmac.compare_digest(expected.encode(), (pin or "").strip().encode())
    return dossier if dossier is not None and matches else None


# What apps above this one add to the public page, by slot: the postal app registers the
# progress of a dossier's items (in its AppConfig.ready), as it does for the network page.
SLOTS = ("postal_progress",)
_providers: dict[str, Callable[[Dossier], list[dict]]] = {}


def register(slot: str, provider: Callable[[Dossier], list[dict]]) -> None:
    if slot not in SLOTS:
        raise ValueError(f"unknown tracking page slot {slot!r}; known: {SLOTS}")
    _providers[slot] = provider


def postal_progress(dossier: Dossier) -> list[dict]:
    """The postal items of the dossier and their history, as the postal app tells them; empty
    when no app has registered for the slot."""
    provider = _providers.get("postal_progress")
    return provider(dossier) if provider else []
