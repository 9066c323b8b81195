"""Writes for postal work: items, scans, deliveries, handovers (biên bản giao nhận), BCCI intake
and pickup appointments.

Every function runs in one transaction, takes the acting user, locks the item it changes
(``select_for_update``) and appends an ItemEvent for every change, so two staff scanning the same
item never lose an event. Bad input raises ``ValidationError`` with a message for the user and
leaves the database as it was.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import scoping
from accounts.models import Role, User
from communes.models import AdministrativeUnit, PostOffice
from communes.weekmarks import mark_weeks
from core.events import append_event
from core.timezones import local_date
from dossiers import services as dossier_services
from dossiers import workdays
from dossiers.models import Dossier, IntakeChannel, Procedure, ReturnChannel, Status
from postal import s10
from postal.models import (
    DeliveryAttempt,
    DeliveryTier,
    Direction,
    Handover,
    HandoverLine,
    ItemCodeSequence,
    ItemEvent,
    ItemStatus,
    PickupAppointment,
    PostalItem,
    TaskTransfer,
)

S = ItemStatus
Outcome = DeliveryAttempt.Outcome

# Delivery target J+n working days after the handover, per tier (DESIGN.md §3). A deployment
# may override any of them with settings.POSTAL_TARGET_DAYS = {"local": 1, ...}.
DEFAULT_TARGET_DAYS = {
    DeliveryTier.LOCAL: 1,
    DeliveryTier.PROVINCE: 2,
    DeliveryTier.NEAR_PROVINCE: 3,
    DeliveryTier.FAR_PROVINCE: 4,
}

# The item state machine in one screen. Handovers move items out of CREATED (return) and
# ACCEPTED (intake); delivery attempts move return items out of the middle states.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.CREATED: frozenset({S.ACCEPTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED}),
    S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED}),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.DELIVERY_FAILED}),
    S.DELIVERY_FAILED: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED, S.RETURNED_TO_SENDER}),
    S.DELIVERED: frozenset(),
    S.RETURNED_TO_SENDER: frozenset(),
    S.CANCELLED: frozenset(),
}
# Item statuses the weekly figures count (reports: items delivered, returned to the agency).
COUNTED_STATUSES = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER})
FINAL_STATUSES = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER, S.CANCELLED})
# Statuses in which a return item is with the post and may be delivered.
DELIVERABLE = frozenset({S.ACCEPTED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED})
# At least two failed notices, the last at least this many working days after the first.
NOTICE_GAP_WORKING_DAYS = 2
REQUIRED_FAILED_NOTICES = 2


def target_days(tier: str) -> int:
    overrides = getattr(settings, "POSTAL_TARGET_DAYS", None) or {}
    return int(overrides.get(str(tier), DEFAULT_TARGET_DAYS[tier]))


# --- helpers -------------------------------------------------------------------------------


def _event(
    item: PostalItem, *, by: User | None, action: str, at=None, from_status="", to_status="", **details
):
    return append_event(
        item, by=by, action=action, at=at, from_status=from_status, to_status=to_status, details=details
    )


def _lock(item: PostalItem) -> PostalItem:
    return PostalItem.objects.select_for_update().select_related("dossier", "post_office").get(pk=item.pk)


def _move(item: PostalItem, to_status: str, *, by: User | None, action: str, at=None, **details) -> None:
    """Change the status of a locked item, or refuse with a message naming the item."""
    if item.status == S.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    if to_status not in TRANSITIONS[item.status]:
        raise ValidationError(
            _("Item %(code)s is “%(status)s” and cannot become “%(target)s”.")
            % {"code": item.code, "status": item.get_status_display(), "target": S(to_status).label}
        )
    from_status = item.status
    item.status = to_status
    item.version += 1
    event = _event(item, by=by, action=action, at=at, from_status=from_status, to_status=to_status, **details)
    if to_status in COUNTED_STATUSES and item.direction == Direction.RETURN:
        # Deliveries and returns to the agency are counted in the week they happen.
        mark_weeks({(_unit_of(item), event.at)})


def _unit_of(item: PostalItem | None) -> int | None:
    if item is None or item.dossier_id is None:
        return None
    return Dossier.objects.filter(pk=item.dossier_id).values_list("receiving_unit_id", flat=True).first()


def item_weeks(item: PostalItem | None) -> set[tuple[int | None, datetime]]:
    """The (unit, moment) pairs a result item counts in: its delivery and its return to the
    agency (for communes.weekmarks.mark_weeks)."""
    if item is None or item.direction != Direction.RETURN:
        return set()
    unit = _unit_of(item)
    moments = set(
        ItemEvent.objects.filter(item_id=item.pk, to_status=S.RETURNED_TO_SENDER).values_list("at", flat=True)
    )
    if item.delivered_at is not None:
        moments.add(item.delivered_at)
    return {(unit, moment) for moment in moments}


def _check_amount(value: int, label: str) -> int:
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("%(label)s must be a whole number of đồng.") % {"label": label}) from None
    if value < 0:
        raise ValidationError(_("%(label)s cannot be below zero.") % {"label": label})
    return value


def _ensure_office_of(by: User, post_office: PostOffice) -> None:
    ids = scoping.post_office_ids(by)
    if ids is not None and post_office.pk not in ids:
        raise ValidationError(_("This item belongs to another post office."))


def issue_code(*, post_office: PostOffice, service: str) -> str:
    """A new valid S10 code from the post office's own range, never issued before."""
    ItemCodeSequence.objects.get_or_create(post_office=post_office)
    sequence = ItemCodeSequence.objects.select_for_update().get(post_office=post_office)
    while True:
        sequence.last_number += 1
        code = s10.make_code(service, s10.office_serial(post_office.pk, sequence.last_number))
        if not PostalItem.objects.filter(code=code).exists():
            break
    sequence.save(update_fields=["last_number"])
    return code


def valid_code(code: str) -> str:
    """The normalised code, or a message saying what is wrong with it (refused at once)."""
    code = s10.normalise(code)
    try:
        s10.parse(code)
    except s10.InvalidCode as error:
        if error.reason == "check_digit":
            raise ValidationError(
                _("The check digit of %(code)s is wrong: scan the code again or check what you typed.")
                % {"code": code}
            ) from None
        raise ValidationError(
            _("“%(code)s” is not an item code: 2 letters, 9 digits and 2 letters, e.g. EB123456785VN.")
            % {"code": code}
        ) from None
    return code


def find_item_for_scan(*, user: User, code: str) -> PostalItem:
    """The item a scanned or typed code names, in the user's post offices; a clear message when
    the code is not S10, has a wrong check digit, is unknown or belongs to another office."""
    code = valid_code(code)
    item = PostalItem.objects.select_related("dossier", "post_office").filter(code=code).first()
    ids = scoping.post_office_ids(user)
    if item is None or (ids is not None and item.post_office_id not in ids):
        raise ValidationError(_("Item %(code)s was not found in your post office.") % {"code": code})
    return item


def default_post_office_for(unit: AdministrativeUnit, *, returning: bool = True) -> PostOffice | None:
    """The operating office that serves a commune: its BĐVHX first, then any other."""
    offices = PostOffice.objects.filter(commune=unit, status=PostOffice.Status.OPERATING)
    offices = (
        offices.filter(offers_bcci_return=True) if returning else offices.filter(offers_bcci_intake=True)
    )
    kinds = [PostOffice.Kind.CULTURAL, PostOffice.Kind.POST_OFFICE, PostOffice.Kind.AGENT]
    for kind in kinds:
        office = offices.filter(kind=kind).order_by("code").first()
        if office:
            return office
    return offices.order_by("code").first()


# --- items ---------------------------------------------------------------------------------


@transaction.atomic
def create_return_item(
    *,
    dossier: Dossier,
    by: User,
    post_office: PostOffice | None = None,
    tier: str = DeliveryTier.LOCAL,
    postage: int = 0,
    fees_collected: int = 0,
) -> PostalItem:
    """The desk hands a finished result to the post: one click from the dossier page."""
    dossier = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if dossier.status != Status.FINISHED:
        raise ValidationError(_("Only a processed dossier can be sent to the citizen by post."))
    if dossier.return_channel != ReturnChannel.BCCI:
        raise ValidationError(_("The citizen did not choose to receive the result by post."))
    if (
        dossier.postal_items.filter(direction=Direction.RETURN)
        .exclude(status__in=[S.CANCELLED, S.RETURNED_TO_SENDER])
        .exists()
    ):
        raise ValidationError(_("This dossier already has a postal item for its result."))
    postage = _check_amount(postage, _("Postage"))
    fees_collected = _check_amount(fees_collected, _("Fees collected"))
    post_office = post_office or default_post_office_for(dossier.receiving_unit)
    if post_office is None:
        raise ValidationError(_("No operating post office returns results for this commune."))
    item = PostalItem.objects.create(
        code=issue_code(post_office=post_office, service=s10.RETURN_SERVICE),
        dossier=dossier,
        direction=Direction.RETURN,
        post_office=post_office,
        tier=tier,
        postage=postage,
        fees_collected=fees_collected,
        recipient_name="",
        recipient_address=dossier.applicant_address,
        recipient_phone=dossier.applicant_phone,
        created_by=by,
    )
    _event(item, by=by, action="item.created", to_status=S.CREATED, direction=Direction.RETURN)
    append_event(dossier, by=by, action="postal.return_item_created", details={"item": item.code})
    return item


@transaction.atomic
def scan_item(
    *, item: PostalItem, by: User, to_status: str, note: str = "", at: datetime | None = None
) -> PostalItem:
    """A scan that moves an item on (in transit, out for delivery, cancelled).

    Scanning an item that is already in the wanted status (two staff scanning at once) keeps the
    scan as an event and changes nothing else. ``at`` is when the scan happened, when it is
    reported later (a carrier's tracking event); now by default.
    """
    item = _lock(item)
    _ensure_office_of(by, item.post_office)
    if item.status == to_status:
        _event(
            item,
            by=by,
            action="item.scanned",
            at=at,
            from_status=item.status,
            to_status=item.status,
            note=note,
        )
        return item
    actions = {
        S.IN_TRANSIT: "item.in_transit",
        S.OUT_FOR_DELIVERY: "item.out_for_delivery",
        S.CANCELLED: "item.cancelled",
    }
    if to_status not in actions:
        raise ValidationError(_("This action is not available from the scan screen."))
    if to_status == S.OUT_FOR_DELIVERY and item.direction != Direction.RETURN:
        raise ValidationError(_("Only results going to citizens are taken out for delivery."))
    _move(item, to_status, by=by, action=actions[to_status], at=at, note=note)
    item.save(update_fields=["status", "version", "updated_at"])
    return item


def two_notices_met(failed_days: list[date]) -> bool:
    """At least two failed notices, the last two working days or more after the first."""
    if len(failed_days) < REQUIRED_FAILED_NOTICES:
        return False
    first, last = min(failed_days), max(failed_days)
    return last >= workdays.add_working_days(first, NOTICE_GAP_WORKING_DAYS)


@transaction.atomic
def record_delivery_attempt(
    *,
    item: PostalItem,
    by: User,
    outcome: str,
    at: datetime | None = None,
    recipient_name: str = "",
    id_checked: bool = False,
    is_proxy: bool = False,
    proxy_authorisation: str = "",
    note: str = "",
) -> PostalItem:
    """One delivery attempt. Delivered needs the recipient's name and a checked ID (a proxy also
    an authorisation) and returns the dossier's result; after the second failed notice, two
    working days after the first, the item goes back to the agency."""
    at = at or timezone.now()
    item = _lock(item)
    _ensure_office_of(by, item.post_office)
    if item.status == S.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    if item.direction != Direction.RETURN:
        raise ValidationError(
            _("Item %(code)s carries a dossier to the desk, not a result.") % {"code": item.code}
        )
    if item.status not in DELIVERABLE:
        raise ValidationError(
            _("Item %(code)s is “%(status)s”: it cannot be delivered now.")
            % {"code": item.code, "status": item.get_status_display()}
        )
    if outcome not in Outcome.values:
        raise ValidationError(_("Choose the outcome of the attempt."))
    recipient_name = (recipient_name or "").strip()
    proxy_authorisation = (proxy_authorisation or "").strip()
    if outcome == Outcome.DELIVERED:
        if not recipient_name:
            raise ValidationError(_("Enter the name of the person who received the item."))
        if not id_checked:
            raise ValidationError(
                _("Check the recipient's identity document before handing over the result.")
            )
        if is_proxy and not proxy_authorisation:
            raise ValidationError(_("A proxy must show an authorisation: enter its reference."))
    DeliveryAttempt.objects.create(item=item, at=at, outcome=outcome, note=note, by=by)
    item.attempts += 1
    if outcome == Outcome.DELIVERED:
        item.recipient_name = recipient_name
        item.id_checked = True
        item.recipient_is_proxy = is_proxy
        item.proxy_authorisation = proxy_authorisation if is_proxy else ""
        item.delivered_at = at
        _move(item, S.DELIVERED, by=by, action="item.delivered", at=at, proxy=is_proxy, attempt=item.attempts)
        item.save()
        dossier_services.return_result(dossier=item.dossier, by=by, channel=ReturnChannel.BCCI, at=at)
        return item
    _move(
        item,
        S.DELIVERY_FAILED,
        by=by,
        action="item.delivery_failed",
        at=at,
        outcome=outcome,
        attempt=item.attempts,
    )
    failed_days = [
        local_date(a)
        for a in item.delivery_attempts.exclude(outcome=Outcome.DELIVERED).values_list("at", flat=True)
    ]
    if two_notices_met(failed_days):
        _move(
            item,
            S.RETURNED_TO_SENDER,
            by=by,
            action="item.returned_to_agency",
            at=at,
            notices=len(failed_days),
        )
        append_event(
            item.dossier,
            by=by,
            action="postal.returned_to_agency",
            details={"item": item.code, "notices": len(failed_days)},
        )
    item.save()
    return item


# --- BCCI intake ---------------------------------------------------------------------------


def _transferred(unit: AdministrativeUnit, procedure: Procedure) -> bool:
    return TaskTransfer.objects.filter(
        unit=unit, field_id=procedure.field_id, task=TaskTransfer.Task.INTAKE, status=TaskTransfer.Status.DONE
    ).exists()


@transaction.atomic
def receive_bcci_dossier(
    *,
    by: User,
    receiving_unit: AdministrativeUnit,
    procedure: Procedure,
    applicant_name: str,
    documents: list[dict],
    applicant_phone: str = "",
    applicant_address: str = "",
    applicant_id_number: str = "",
    return_channel: str = ReturnChannel.BCCI,
    decline_reason: str = "",
    decline_note: str = "",
    postage: int = 0,
    fees_collected: int = 0,
    appointment: PickupAppointment | None = None,
) -> PostalItem:
    """Postal staff receive a dossier at a BĐVHX or at home (Decision 45/2016): the dossier is
    created with intake channel BCCI and stays "newly registered" until the handover to the desk
    is signed; the item travels with it."""
    if by.role not in (Role.POSTAL_STAFF, Role.POST_MANAGER) or not by.post_office_id:
        raise ValidationError(_("Only postal staff receive dossiers by post."))
    if receiving_unit.pk not in (scoping.unit_ids(by) or set()):
        raise ValidationError(_("Your post office does not serve this commune."))
    if not procedure.bcci_intake_allowed:
        raise ValidationError(_("This procedure cannot be received by post."))
    if not (applicant_name or "").strip():
        raise ValidationError(_("Enter the applicant's name."))
    if not documents:
        raise ValidationError(_("List at least one document handed in."))
    postage = _check_amount(postage, _("Postage"))
    fees_collected = _check_amount(fees_collected, _("Fees collected"))
    if appointment is not None:
        appointment = PickupAppointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status != PickupAppointment.Status.BOOKED:
            raise ValidationError(_("This appointment is no longer open."))
    dossier = dossier_services.create_dossier(
        by=by,
        receiving_unit=receiving_unit,
        procedure=procedure,
        applicant_name=applicant_name.strip(),
        applicant_phone=applicant_phone,
        applicant_address=applicant_address,
        applicant_id_number=applicant_id_number,
        intake_channel=IntakeChannel.BCCI,
        return_channel=return_channel,
        decline_reason=decline_reason,
        decline_note=decline_note,
        documents=documents,
        received_at=None,
        received_by_post=_transferred(receiving_unit, procedure),
    )
    office = by.post_office
    item = PostalItem.objects.create(
        code=issue_code(post_office=office, service=s10.INTAKE_SERVICE),
        dossier=dossier,
        direction=Direction.INTAKE,
        post_office=office,
        status=S.ACCEPTED,
        postage=postage,
        fees_collected=fees_collected,
        recipient_address=receiving_unit.name,
        created_by=by,
    )
    _event(item, by=by, action="item.intake_received", to_status=S.ACCEPTED, documents=len(documents))
    if appointment is not None:
        appointment.status = PickupAppointment.Status.DONE
        appointment.dossier = dossier
        appointment.save(update_fields=["status", "dossier"])
    return item


# --- handovers -----------------------------------------------------------------------------

HandoverDirection = Handover.Direction


def _side(by: User, handover: Handover) -> str | None:
    """Which side of the record the user signs for: the desk or the post."""
    if by.role == Role.COMMUNE_OFFICIAL and by.unit_id == handover.desk_unit_id:
        return "desk"
    if by.role in (Role.POSTAL_STAFF, Role.POST_MANAGER):
        ids = scoping.post_office_ids(by)
        if ids is not None and handover.post_office_id in ids:
            return "post"
    return None


def _lock_handover(handover: Handover) -> Handover:
    return Handover.objects.select_for_update().get(pk=handover.pk)


def _ensure_editable(handover: Handover) -> None:
    if handover.status == Handover.Status.SIGNED:
        raise ValidationError(_("This handover record is signed and can no longer change."))
    if handover.desk_signed_by_id or handover.post_signed_by_id:
        raise ValidationError(_("One side has already signed: the record can no longer change."))


@transaction.atomic
def create_handover(
    *, by: User, direction: str, desk_unit: AdministrativeUnit, post_office: PostOffice, note: str = ""
) -> Handover:
    if direction not in HandoverDirection.values:
        raise ValidationError(_("Choose the direction of the handover."))
    draft = Handover(direction=direction, desk_unit=desk_unit, post_office=post_office)
    if _side(by, draft) is None:
        raise ValidationError(_("You can only prepare handover records for your own desk or post office."))
    if post_office.commune_id != desk_unit.pk and desk_unit.pk not in (
        set(PostOffice.objects.filter(pk=post_office.pk).values_list("children__commune_id", flat=True))
    ):
        raise ValidationError(_("This post office does not serve this commune."))
    handover = Handover.objects.create(
        number=f"tmp-{timezone.now().timestamp()}-{by.pk}",
        direction=direction,
        desk_unit=desk_unit,
        post_office=post_office,
        prepared_by=by,
        note=note,
    )
    handover.number = f"BBGN-{timezone.localdate():%y%m%d}-{handover.pk:06d}"
    handover.save(update_fields=["number"])
    return handover


@transaction.atomic
def add_item_to_handover(*, handover: Handover, by: User, code: str, complete: bool = True, note: str = ""):
    handover = _lock_handover(handover)
    _ensure_editable(handover)
    if _side(by, handover) is None:
        raise ValidationError(_("You are not a party to this handover record."))
    code = valid_code(code)
    item = PostalItem.objects.filter(code=code).first()
    if item is None:
        raise ValidationError(_("Item %(code)s was not found.") % {"code": code})
    item = _lock(item)
    if item.post_office_id != handover.post_office_id:
        raise ValidationError(_("Item %(code)s belongs to another post office.") % {"code": item.code})
    if item.dossier.receiving_unit_id != handover.desk_unit_id:
        raise ValidationError(_("Item %(code)s belongs to another commune's dossier.") % {"code": item.code})
    if item.status == S.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    wanted = (
        (Direction.RETURN, {S.CREATED})
        if handover.direction == HandoverDirection.DESK_TO_POST
        else (Direction.INTAKE, {S.ACCEPTED, S.IN_TRANSIT})
    )
    if item.direction != wanted[0] or item.status not in wanted[1]:
        raise ValidationError(
            _("Item %(code)s (“%(status)s”) cannot go on this handover record.")
            % {"code": item.code, "status": item.get_status_display()}
        )
    if handover.lines.filter(item=item).exists():
        raise ValidationError(_("Item %(code)s is already on this record.") % {"code": item.code})
    if HandoverLine.objects.filter(item=item, handover__status=Handover.Status.DRAFT).exists():
        raise ValidationError(_("Item %(code)s is already on another open record.") % {"code": item.code})
    line = HandoverLine.objects.create(handover=handover, item=item, complete=complete, note=note)
    _event(item, by=by, action="item.added_to_handover", handover=handover.number, complete=complete)
    return line


@transaction.atomic
def set_line_complete(*, line: HandoverLine, by: User, complete: bool, note: str = "") -> HandoverLine:
    handover = _lock_handover(line.handover)
    _ensure_editable(handover)
    if _side(by, handover) is None:
        raise ValidationError(_("You are not a party to this handover record."))
    line.complete = complete
    line.note = note
    line.save(update_fields=["complete", "note"])
    _event(line.item, by=by, action="item.handover_line_marked", handover=handover.number, complete=complete)
    return line


@transaction.atomic
def remove_line(*, line: HandoverLine, by: User) -> None:
    handover = _lock_handover(line.handover)
    _ensure_editable(handover)
    if _side(by, handover) is None:
        raise ValidationError(_("You are not a party to this handover record."))
    _event(line.item, by=by, action="item.removed_from_handover", handover=handover.number)
    line.delete()


@transaction.atomic
def sign_handover(*, handover: Handover, by: User, at: datetime | None = None) -> Handover:
    """One side signs; when the second side signs the record is final and every complete line's
    item (and dossier) moves on, all in this transaction: a failure on one line changes nothing."""
    at = at or timezone.now()
    handover = _lock_handover(handover)
    if handover.status == Handover.Status.SIGNED:
        raise ValidationError(_("This handover record is already signed."))
    lines = list(handover.lines.select_related("item").order_by("id"))
    if not lines:
        raise ValidationError(_("An empty handover record cannot be signed: scan its items first."))
    side = _side(by, handover)
    if side is None:
        raise ValidationError(_("You are not a party to this handover record."))
    if getattr(handover, f"{side}_signed_by_id"):
        raise ValidationError(_("Your side has already signed; the other side must sign now."))
    setattr(handover, f"{side}_signed_by", by)
    setattr(handover, f"{side}_signed_at", at)
    if not (handover.desk_signed_by_id and handover.post_signed_by_id):
        handover.save()
        return handover
    handover.status = Handover.Status.SIGNED
    handover.signed_at = at
    handover.save()
    desk_signer = handover.desk_signed_by
    for line in lines:
        item = _lock(line.item)
        if not line.complete:
            _event(item, by=by, action="item.handover_incomplete", at=at, handover=handover.number)
            continue
        if handover.direction == HandoverDirection.DESK_TO_POST:
            if item.status != S.CREATED:
                raise ValidationError(
                    _("Item %(code)s changed since it was scanned; nothing was signed.") % {"code": item.code}
                )
            item.handover_date = local_date(at)
            item.target_date = workdays.add_working_days(item.handover_date, target_days(item.tier))
            _move(item, S.ACCEPTED, by=by, action="item.accepted", at=at, handover=handover.number)
            item.save()
            append_event(
                item.dossier,
                by=by,
                action="postal.handed_to_post",
                details={"item": item.code, "handover": handover.number},
            )
        else:
            if item.status not in (S.ACCEPTED, S.IN_TRANSIT) or item.dossier.status != Status.REGISTERED:
                raise ValidationError(
                    _("Item %(code)s changed since it was scanned; nothing was signed.") % {"code": item.code}
                )
            item.handover_date = local_date(at)
            item.recipient_name = desk_signer.get_full_name()
            item.id_checked = True
            item.delivered_at = at
            _move(item, S.DELIVERED, by=by, action="item.handed_to_desk", at=at, handover=handover.number)
            item.save()
            # The signature is the legal submission time (Decision 45/2016).
            dossier_services.record_legal_submission(dossier=item.dossier, by=by, at=at)
    return handover


# --- pickup appointments -------------------------------------------------------------------


@transaction.atomic
def book_appointment(
    *,
    by: User,
    citizen_name: str,
    citizen_phone: str,
    address: str,
    commune: AdministrativeUnit,
    procedure: Procedure,
    post_office: PostOffice,
    slot_start: datetime,
    slot_end: datetime,
    assigned_to: User | None = None,
    note: str = "",
) -> PickupAppointment:
    if commune.pk not in (scoping.unit_ids(by) or set()) and not by.is_administrator:
        raise ValidationError(_("This commune is outside your scope."))
    offices = scoping.post_office_ids(by)
    if offices is not None and post_office.pk not in offices:
        raise ValidationError(_("This post office is outside your scope."))
    if slot_end <= slot_start:
        raise ValidationError(_("The end of the time slot must be after its start."))
    if not procedure.bcci_intake_allowed:
        raise ValidationError(_("This procedure cannot be received by post."))
    if assigned_to is not None and assigned_to.post_office_id != post_office.pk:
        raise ValidationError(_("The assigned staff member works at another post office."))
    if not citizen_name.strip() or not address.strip():
        raise ValidationError(_("Enter the citizen's name and address."))
    return PickupAppointment.objects.create(
        citizen_name=citizen_name.strip(),
        citizen_phone=citizen_phone,
        address=address.strip(),
        commune=commune,
        procedure=procedure,
        post_office=post_office,
        slot_start=slot_start,
        slot_end=slot_end,
        assigned_to=assigned_to,
        note=note,
        created_by=by,
    )


@transaction.atomic
def mark_appointment(
    *, appointment: PickupAppointment, by: User, status: str, note: str = ""
) -> PickupAppointment:
    """Missed or cancelled; a done appointment comes from receive_bcci_dossier."""
    appointment = PickupAppointment.objects.select_for_update().get(pk=appointment.pk)
    if status not in (PickupAppointment.Status.MISSED, PickupAppointment.Status.CANCELLED):
        raise ValidationError(_("An appointment is done when its dossier is received."))
    if appointment.status != PickupAppointment.Status.BOOKED:
        raise ValidationError(_("This appointment is no longer open."))
    appointment.status = status
    if note:
        appointment.note = note
    appointment.save(update_fields=["status", "note"])
    return appointment
