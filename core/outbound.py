"""Calls to outside services (SMS and Zalo gateways, the national portal): one JSON POST that
turns every failure into ``OutboundError`` saying whether trying again may help, and the one
back-off schedule their retries follow."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


class OutboundError(Exception):
    def __init__(self, reason: str, *, temporary: bool, http_status: int | None = None):
        super().__init__(reason)
        self.reason = reason[:300]
        self.temporary = temporary
        self.http_status = http_status


def backoff(failed_attempts: int) -> timedelta:
    """Wait before the next attempt after ``failed_attempts`` failures: 1, 2, 4 … 60 minutes."""
    return min(FIRST_RETRY * 2 ** max(failed_attempts - 1, 0), LONGEST_RETRY)


def post_json(url: str, body: dict, *, headers: dict, timeout: float) -> tuple[int, dict]:
    """POST ``body`` as JSON; the HTTP status and the decoded JSON answer. A timeout, a refused
    connection, HTTP 5xx, 408 or 429 are temporary; another HTTP error is not."""
    if not url.startswith(("http://", "https://")):
        raise OutboundError("the endpoint is not an http(s) URL", temporary=False)
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        temporary = error.code >= 500 or error.code in (408, 429)
        raise OutboundError(f"HTTP {error.code}", temporary=temporary, http_status=error.code) from None
    except TimeoutError:
        raise OutboundError("timeout", temporary=True) from None
    except (urllib.error.URLError, OSError) as error:
        raise OutboundError(f"connection failed: {getattr(error, 'reason', error)}", temporary=True) from None
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        raise OutboundError("the answer is not JSON", temporary=True, http_status=status) from None
