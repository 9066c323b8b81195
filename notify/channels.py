"""The ways a notice reaches a citizen, behind one small interface.

A channel has a ``name`` (``zns`` or ``sms``) and ``send(outgoing) -> provider id``; it raises
``SendError`` with ``temporary=True`` when trying again later may work (timeout, connection
refused, HTTP 5xx/429) and ``temporary=False`` when it will not (bad number, not a Zalo user,
rejected template). Endpoints, keys and ZNS template ids come from settings; with no SMS
endpoint the SMS channel is the outbox, which writes the message to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings

from core.outbound import OutboundError, post_json
from dossiers.personal import mask_phone

log = logging.getLogger(__name__)


# Failures of a channel are core.outbound's: temporary (try again later) or not.
SendError = OutboundError


@dataclass(frozen=True)
class Outgoing:
    phone: str  # national form, 0xxxxxxxxx
    text: str
    event: str
    key: str  # idempotency key, the same on every attempt
    params: dict = field(default_factory=dict)


def international(phone: str) -> str:
    """0912345678 → 84912345678, the form Zalo and SMS gateways expect."""
    return "84" + phone[1:] if phone.startswith("0") else phone


class ZaloZns:
    """Zalo Notification Service: a template registered with Zalo, filled with parameters."""

    name = "zns"

    def __init__(self, *, url: str, access_token: str, templates: dict[str, str], timeout: float):
        self.url, self.access_token, self.templates, self.timeout = url, access_token, templates, timeout

    def send(self, outgoing: Outgoing) -> str:
        template_id = self.templates.get(outgoing.event)
        if not template_id:
            raise SendError(f"no ZNS template for {outgoing.event}", temporary=False)
        _status, answer = post_json(
            self.url,
            {
                "phone": international(outgoing.phone),
                "template_id": template_id,
                "template_data": outgoing.params,
                "tracking_id": outgoing.key,
            },
            headers={"access_token": self.access_token},
            timeout=self.timeout,
        )
        # Zalo answers HTTP 200 with an error code; 0 is success, the others will not improve
        # by retrying (unknown number, not a Zalo user, quota, template rejected).
        if answer.get("error") != 0:
            raise SendError(f"ZNS error {answer.get('error')}: {answer.get('message', '')}", temporary=False)
        return str((answer.get("data") or {}).get("msg_id", ""))


class SmsBrandname:
    """An SMS brandname gateway: the text itself, sent under the locality's registered name."""

    name = "sms"

    def __init__(self, *, url: str, api_key: str, brandname: str, timeout: float):
        self.url, self.api_key, self.brandname, self.timeout = url, api_key, brandname, timeout

    def send(self, outgoing: Outgoing) -> str:
        _status, answer = post_json(
            self.url,
            {
                "brandname": self.brandname,
                "phone": international(outgoing.phone),
                "message": outgoing.text,
                "request_id": outgoing.key,
            },
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=self.timeout,
        )
        if answer.get("status") not in ("accepted", "duplicate"):
            raise SendError(f"SMS gateway refused: {answer.get('status')}", temporary=False)
        return str(answer.get("id", ""))


class Outbox:
    """The embedded default: the message is kept as sent-to-outbox and written to the log, so a
    laptop without any account shows what citizens would receive."""

    is_outbox = True

    def __init__(self, name: str = "sms"):
        self.name = name

    def send(self, outgoing: Outgoing) -> str:
        # The phone masked: logs never carry a citizen's full number.
        log.info("notify outbox [%s] to %s: %s", self.name, mask_phone(outgoing.phone), outgoing.text)
        return f"outbox-{outgoing.key}"


def configured() -> list:
    """The channels in the order they are tried: ZNS first when configured, then SMS (or the
    outbox standing in for it)."""
    channels: list = []
    if settings.NOTIFY_ZNS_URL:
        channels.append(
            ZaloZns(
                url=settings.NOTIFY_ZNS_URL,
                access_token=settings.NOTIFY_ZNS_ACCESS_TOKEN,
                templates=settings.NOTIFY_ZNS_TEMPLATES,
                timeout=settings.NOTIFY_TIMEOUT_SECONDS,
            )
        )
    if settings.NOTIFY_SMS_URL:
        channels.append(
            SmsBrandname(
                url=settings.NOTIFY_SMS_URL,
                api_key=settings.NOTIFY_SMS_API_KEY,
                brandname=settings.NOTIFY_SMS_BRANDNAME,
                timeout=settings.NOTIFY_TIMEOUT_SECONDS,
            )
        )
    else:
        channels.append(Outbox("sms"))
    return channels


def by_name(name: str):
    for channel in configured():
        if channel.name == name:
            return channel
    # A message queued for a channel since switched off goes to the outbox rather than nowhere.
    return Outbox(name)
