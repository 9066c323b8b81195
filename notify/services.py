"""Writes of the notify app: queueing a notice when something happens to a dossier, sending it
with retries and fallback, the citizen's stop link and rating, and follow-ups of low ratings.

Queueing runs inside the transaction that changed the dossier (the message row commits with the
change or not at all: nothing lost); sending runs after commit, one attempt per call, the row
locked so that two workers never send the same message (nothing twice).
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from core.inserts import insert_unless_exists
from core.outbound import backoff
from core.prepared import PreparedQuery
from dossiers import services as dossier_services
from dossiers.models import Dossier, ReturnChannel
from notify import channels, texts
from notify.models import Channel, Event, FollowUp, Message, MessageStatus, MessageTemplate, Rating

log = logging.getLogger(__name__)

# Attempts on a channel before giving up on it (ZNS then falls back to SMS). The SMS back-off
# doubles from one minute to one hour: twelve attempts cover about six hours of an outage.
MAX_ATTEMPTS = {Channel.ZNS: 3, Channel.SMS: 12}
RATING_VALID_FOR = timedelta(days=30)
LOW_RATING = 2  # a rating at or below opens a follow-up for the commune
SATISFIED = 4  # a rating at or above counts as satisfied


# --- links -----------------------------------------------------------------------------------


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL + path


def stop_token(dossier_id: int) -> str:
    """A short keyed token naming the dossier: stop links need no table and cannot be guessed."""
    mac = salted_hmac("notify.stop", str(dossier_id)).hexdigest()[:12]
    return f"{dossier_id}-{mac}"


def dossier_for_stop_token(token: str) -> Dossier | None:
    head, _sep, _mac = (token or "").partition("-")
    if not head.isdigit() or not constant_time_compare(stop_token(int(head)), token):
        return None
    return Dossier.objects.filter(pk=int(head)).first()


def lookup_link(dossier: Dossier) -> str:
    return absolute(reverse("tracking:track")) + f"?code={dossier.code}"


# --- what a message says ---------------------------------------------------------------------


# The administrators' texts, read at most once every TEMPLATE_CACHE_SECONDS per process instead of
# once per notice: an edit in the admin is used at once by the process that saved it
# (forget_templates, connected to saves and deletions in NotifyConfig.ready) and within this delay
# by every other worker.
TEMPLATE_CACHE_SECONDS = 10
_templates: tuple[float, dict[str, str]] | None = None


def forget_templates(*args, **kwargs) -> None:
    """Read the templates afresh on the next notice."""
    global _templates
    _templates = None


def template_text(event: str) -> str:
    global _templates
    now = time.monotonic()
    if _templates is None or now - _templates[0] >= TEMPLATE_CACHE_SECONDS:
        _templates = (now, dict(MessageTemplate.objects.values_list("event", "text")))
    return _templates[1].get(event) or texts.DEFAULTS[event]


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def values_for(dossier: Dossier, *, item=None, details: dict | None = None, rating: Rating | None = None):
    """The placeholders' values for one dossier (and its return item): codes, dates, names of
    the desk and the office, public links. Nothing personal."""
    details = details or {}
    unit_name = dossier.receiving_unit.name
    how = (
        _("The result will be sent to you by post.")
        if dossier.return_channel == ReturnChannel.BCCI
        else _("Please collect it at the one-stop desk of %(unit)s.") % {"unit": unit_name}
    )
    values = {
        "ma_ho_so": dossier.code,
        "thu_tuc": texts.cut(dossier.procedure.name, 60),
        "noi_nhan": texts.cut(unit_name, 60),
        "ngay_hen_tra": _date(dossier.due_date),
        "tra_cuu": lookup_link(dossier),
        "bo_sung": texts.cut(details.get("items", ""), 120),
        "cach_nhan": how,
        "ma_buu_gui": item.code if item else "",
        "ngay_phat": _date(item.target_date) if item else "",
        "buu_dien": texts.cut(item.post_office.name, 60) if item else "",
        "danh_gia": absolute(reverse("notify:rate", args=[rating.token])) if rating else "",
        texts.STOP_PLACEHOLDER: absolute(reverse("notify:stop", args=[stop_token(dossier.pk)])),
    }
    return values


def compose(event: str, dossier: Dossier, **context) -> tuple[str, dict]:
    """The SMS text (≤ 400 characters) and the ZNS parameters of one message."""
    values = values_for(dossier, **context)
    template = template_text(event)
    text = texts.render(template, values)
    # Longer than the checks foresaw (a long site address): shorten the free texts first, so
    # that the links, above all the stop link, stay whole.
    for name, limit in (("thu_tuc", 30), ("bo_sung", 60), ("thu_tuc", 0), ("noi_nhan", 20)):
        if len(text) <= texts.MAX_MESSAGE_LENGTH:
            break
        values[name] = texts.cut(values[name], limit) if limit else ""
        text = texts.render(template, values)
    text = texts.cut(text, texts.MAX_MESSAGE_LENGTH)
    params = {name: value for name, value in values.items() if name in texts.ALLOWED[event]}
    return text, params


# --- queueing --------------------------------------------------------------------------------


def _invite_rating(dossier: Dossier, item) -> Rating:
    """The dossier's rating invitation, created with the first delivered notice (one per
    dossier: an existing one is kept)."""
    rating = Rating(
        dossier=dossier,
        token=secrets.token_urlsafe(12),
        unit_id=dossier.receiving_unit_id,
        post_office_id=item.post_office_id if item else None,
        employee_id=_deliverer(item),
        expires_at=timezone.now() + RATING_VALID_FOR,
    )
    # One statement, no savepoint; the existing invitation is read only when there is one.
    if insert_unless_exists(rating):
        return rating
    return Rating.objects.get(dossier=dossier)


def _deliverer(item) -> int | None:
    """The id of the employee who delivered the item."""
    if item is None:
        return None
    # The attempt the postal services just recorded, when that is the delivery: no query.
    attempt = getattr(item, "last_attempt", None)
    if attempt is not None and attempt.outcome == "delivered":
        return attempt.by_id
    return item.delivery_attempts.filter(outcome="delivered").values_list("by_id", flat=True).last()


# Whether the dossier has a message for this event already: ``.exists()`` of this queryset,
# compiled once per process (core.prepared), as building and compiling it cost more CPU than the
# database spends on it.
_MESSAGE_FOR_EVENT = PreparedQuery(
    lambda dossier_id, event: (
        Message.objects.filter(dossier_id=dossier_id, event=event).only("pk").order_by()[:1]
    ),
    [int, str],
)


def queue(*, dossier: Dossier, event: str, item=None, details: dict | None = None) -> Message | None:
    """Queue the notice of ``event`` for the dossier, inside the caller's transaction; it is sent
    after commit. A second call for the same dossier and event adds nothing. The row records
    why nothing is sent when the citizen declined messages or left no phone number."""
    first = channels.configured()[0].name
    if _MESSAGE_FOR_EVENT.all(dossier.pk, event):
        return None
    if dossier.messages_declined:
        status = MessageStatus.OPTED_OUT
    elif not dossier.applicant_phone:
        status = MessageStatus.NO_PHONE
    else:
        status = MessageStatus.QUEUED
    rating = _invite_rating(dossier, item) if event == Event.DELIVERED else None
    text, params = (
        ("", {})
        if status != MessageStatus.QUEUED
        else compose(event, dossier, item=item, details=details, rating=rating)
    )
    message = Message(
        dossier=dossier,
        event=event,
        channel=first,
        status=status,
        phone=dossier.applicant_phone if status == MessageStatus.QUEUED else "",
        text=text,
        params=params,
        next_attempt_at=timezone.now(),
    )
    # The unique key: never two messages for one dossier × event × channel. One statement, and
    # the row is read back only when another transaction wrote it first (nothing to send then).
    if not insert_unless_exists(message):
        return Message.objects.filter(dossier=dossier, event=event, channel=first).first()
    if message.status == MessageStatus.QUEUED:
        transaction.on_commit(lambda: _dispatch(message.pk))
    return message


# The task that sends one message, by its registered name: notify.tasks calls this module, so
# this module reaches the task through the Celery registry (NotifyConfig.ready imports the tasks).
SEND_TASK = "notify.send_message"


def _dispatch(message_id: int) -> None:
    from celery import current_app

    try:
        current_app.tasks[SEND_TASK].delay(message_id)
    except Exception:  # the broker is down: the sweep sends it once it is back
        log.warning("notify: message %s left for the sweep (broker unavailable)", message_id)


# --- sending ---------------------------------------------------------------------------------


def _fallback(message: Message) -> None:
    """ZNS gave up: the same notice by SMS, unless an SMS for it already exists."""
    if message.channel != Channel.ZNS:
        return
    Message.objects.bulk_create(
        [
            Message(
                dossier_id=message.dossier_id,
                event=message.event,
                channel=Channel.SMS,
                phone=message.phone,
                text=message.text,
                params=message.params,
                next_attempt_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    fallback = Message.objects.get(dossier_id=message.dossier_id, event=message.event, channel=Channel.SMS)
    if fallback.status == MessageStatus.QUEUED:
        transaction.on_commit(lambda: _dispatch(fallback.pk))


# The queued message, locked unless another worker holds it: ``.first()`` of this queryset,
# compiled once per process (core.prepared).
_QUEUED_MESSAGE = PreparedQuery(
    lambda pk: (
        Message.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, status=MessageStatus.QUEUED)
        .order_by("created_at", "id")[:1]
    ),
    [int],
)


@transaction.atomic
def send(*, message_id: int, now: datetime | None = None) -> Message | None:
    """One attempt at one queued message whose time has come. The row stays locked during the
    attempt, so a second worker skips it; the provider also gets the same idempotency key on
    every attempt, so an answer lost to a timeout does not make the citizen read it twice."""
    now = now or timezone.now()
    found = _QUEUED_MESSAGE.all(message_id)
    message = found[0] if found else None
    if message is None or (message.next_attempt_at and message.next_attempt_at > now):
        return message
    channel = channels.by_name(message.channel)
    outgoing = channels.Outgoing(
        phone=message.phone,
        text=message.text,
        event=message.event,
        key=message.idempotency_key,
        params=message.params,
    )
    message.attempts += 1
    try:
        message.provider_id = channel.send(outgoing)[:100]
    except channels.SendError as error:
        message.last_error = error.reason
        if error.temporary and message.attempts < MAX_ATTEMPTS[message.channel]:
            message.next_attempt_at = now + backoff(message.attempts)
        else:
            message.status = MessageStatus.FAILED
            message.next_attempt_at = None
            _fallback(message)
        log.info("notify: message %s attempt %s failed: %s", message.pk, message.attempts, error.reason)
    else:
        message.status = MessageStatus.OUTBOX if getattr(channel, "is_outbox", False) else MessageStatus.SENT
        message.sent_at = now
        message.next_attempt_at = None
        message.last_error = ""
    message.save()
    return message


def due_message_ids(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or timezone.now()
    return list(
        Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def send_due(*, now: datetime | None = None) -> int:
    """Every queued message whose attempt is due, oldest first (the beat sweep)."""
    sent = 0
    for message_id in due_message_ids(now=now):
        message = send(message_id=message_id, now=now)
        sent += bool(message and message.status in (MessageStatus.SENT, MessageStatus.OUTBOX))
    return sent


# --- the citizen's answers -------------------------------------------------------------------


def stop_messages(*, dossier: Dossier) -> None:
    """The stop link: no further message about this dossier."""
    dossier_services.decline_messages(dossier=dossier, by=None)
    Message.objects.filter(dossier=dossier, status=MessageStatus.QUEUED).update(
        status=MessageStatus.OPTED_OUT, next_attempt_at=None
    )


def rating_for_token(token: str) -> Rating | None:
    return Rating.objects.select_related("dossier", "unit").filter(token=token).first()


@transaction.atomic
def rate(*, token: str, stars, comment: str = "", now: datetime | None = None) -> Rating:
    """Record the citizen's answer: 1–5 stars, an optional comment; once, within 30 days. A
    rating of two stars or fewer opens a follow-up on the commune's home page."""
    now = now or timezone.now()
    rating = Rating.objects.select_for_update().filter(token=token).first()
    if rating is None:
        raise ValidationError(_("This rating link is not valid."), code="unknown")
    if rating.answered_at is not None:
        raise ValidationError(_("This dossier has already been rated. Thank you!"), code="answered")
    if now > rating.expires_at:
        raise ValidationError(
            _("This rating link has expired (links are valid for 30 days)."), code="expired"
        )
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationError({"stars": _("Choose from 1 to 5 stars.")}, code="stars")
    comment = (comment or "").strip()
    if len(comment) > 1000:
        raise ValidationError({"comment": _("The comment can have at most 1000 characters.")}, code="long")
    rating.stars, rating.comment, rating.answered_at = stars, comment, now
    rating.save(update_fields=["stars", "comment", "answered_at"])
    if stars <= LOW_RATING:
        FollowUp.objects.get_or_create(rating=rating, defaults={"unit_id": rating.unit_id})
    _mark_week(rating)
    return rating


def _mark_week(rating: Rating) -> None:
    """An answer is counted in the week it was given: mark that week of the commune, like any
    other change (communes.weekmarks), so the figures follow within a minute."""
    from communes.weekmarks import mark_weeks

    mark_weeks({(rating.unit_id, rating.answered_at)})


@transaction.atomic
def close_follow_up(*, follow_up: FollowUp, by, note: str) -> FollowUp:
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.status == FollowUp.Status.CLOSED:
        raise ValidationError(_("This follow-up is already closed."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Write what was done for the citizen.")})
    follow_up.status = FollowUp.Status.CLOSED
    follow_up.closed_at = timezone.now()
    follow_up.closed_by = by
    follow_up.note = note[:500]
    follow_up.save(update_fields=["status", "closed_at", "closed_by", "note"])
    return follow_up
