"""The citizens' public lookup: a dossier code plus the PIN printed on the receipt.

No personal data is shown. "No such code" and "wrong PIN" get the same answer, and each client
address may try only ``LIMIT`` lookups per ``WINDOW`` seconds. The count lives in the database
(``LookupWindow``), so every web process shares it and it holds while Redis is down.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dossiers import workdays
from dossiers.models import Dossier, LookupWindow, ReturnChannel, Status

LIMIT = 20
WINDOW = 600  # seconds
KEEP_WINDOWS = 6  # an hour of counts is kept; older rows are deleted when a new window starts


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


def _client_key(address: str) -> str:
    # An address is personal data: the table keeps a keyed hash that cannot be reversed.
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def count_attempt(address: str, now: float | None = None) -> int:
    """Add one lookup to the address's current window; the window's count so far."""
    window = int((time.time() if now is None else now) // WINDOW)
    rows = LookupWindow.objects.filter(client=_client_key(address), window=window)
    if not rows.update(attempts=F("attempts") + 1):
        try:
            with transaction.atomic():
                LookupWindow.objects.create(client=_client_key(address), window=window, attempts=1)
        except IntegrityError:  # another process created it a moment ago
            rows.update(attempts=F("attempts") + 1)
        else:
            LookupWindow.objects.filter(window__lt=window - KEEP_WINDOWS).delete()
    return rows.values_list("attempts", flat=True).first() or 1


def rate_limited(request) -> bool:
    """Count this attempt; True when the address has used up its attempts for the window."""
    return count_attempt(client_address(request)) > LIMIT


def find(code: str, pin: str) -> Dossier | None:
    """The dossier when code and PIN match, else None (the same for both failures)."""
    code = (code or "").strip()
    candidates = {code, code.upper()}
    dossier = (
        Dossier.objects.select_related("procedure", "receiving_unit").filter(code__in=candidates).first()
    )
    expected = dossier.tracking_pin if dossier else "000000"
    matches = hmac.compare_digest(expected.encode(), (pin or "").strip().encode())
    return dossier if dossier is not None and matches else None


def citizen_status(dossier: Dossier) -> str:
    """Where the dossier stands, as a citizen reads it: no codes, no desk jargon."""
    due = dossier.due_date.strftime("%d/%m/%Y") if dossier.due_date else ""
    status = dossier.status
    if status == Status.REGISTERED:
        return _("Your dossier has been registered and is on its way to the one-stop desk.")
    if status in (Status.ACCEPTED, Status.PROCESSING):
        if due:
            return _("Your dossier is being processed. The result is due on %(day)s.") % {"day": due}
        return _("Your dossier is being processed.")
    if status == Status.REFUSED:
        return _("Your dossier was not accepted. The one-stop desk gave you a slip with the reason.")
    if status == Status.SUPPLEMENT_REQUESTED:
        return _("Your dossier needs more documents before it can be processed.")
    if status == Status.FINANCIAL_OBLIGATION:
        return _("Please pay the fees or charges due so that your dossier can be processed further.")
    if status == Status.WITHDRAWN:
        return _("Your dossier was withdrawn at your request.")
    if status == Status.STOPPED:
        return _("Processing of your dossier was stopped. Please contact the one-stop desk.")
    if status == Status.FINISHED:
        if dossier.return_channel == ReturnChannel.BCCI:
            return _("Your result is ready and will be sent to you by post.")
        if dossier.return_channel == ReturnChannel.ONLINE:
            return _("Your result is ready and is returned online.")
        return _("Your result is ready. Please collect it at the one-stop desk.")
    returned = dossier.returned_at.astimezone(workdays.TZ).strftime("%d/%m/%Y") if dossier.returned_at else ""
    return (
        _("You received the result on %(day)s.") % {"day": returned}
        if returned
        else _("You received the result.")
    )


def open_supplement_items(dossier: Dossier) -> list[str]:
    """What the citizen must still bring (the latest open supplement request), line by line."""
    if dossier.status != Status.SUPPLEMENT_REQUESTED:
        return []
    request = dossier.supplement_requests.filter(completed_at__isnull=True).order_by("-requested_at").first()
    if request is None:
        return []
    return [line.strip(" -•\t") for line in request.items.splitlines() if line.strip(" -•\t")]


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
