"""Handover records (biên bản giao nhận) between the one-stop desk and the post: lines, both
signatures, and what the signature changes (the legal submission time of a dossier received by
post; the handover date J of a result going to the citizen)."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import DESK, POSTAL, acts_as
from communes import scoping
from communes.models import AdministrativeUnit, PostOffice
from core.events import append_event
from core.timezones import local_date
from dossiers import calendar, workdays
from dossiers import services as dossier_services
from dossiers.models import Status
from postal.models import (
    Direction,
    Handover,
    HandoverLine,
    ItemStatus,
    PostalItem,
)
from postal.services.items import (
    _lock,
    _move,
    target_days,
    valid_code,
)

# --- handovers -----------------------------------------------------------------------------

HandoverDirection = Handover.Direction


def signing_side(by: User, handover: Handover) -> str | None:
    """Which side of the record the user signs for: the desk or the post."""
    if acts_as(by, DESK) and by.unit_id == handover.desk_unit_id:
        return "desk"
    if acts_as(by, POSTAL):
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
    if signing_side(by, draft) is None:
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
    if signing_side(by, handover) is None:
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
    if item.status == ItemStatus.DELIVERED:
        raise ValidationError(_("Item %(code)s has already been delivered.") % {"code": item.code})
    wanted = (
        (Direction.RETURN, {ItemStatus.CREATED})
        if handover.direction == HandoverDirection.DESK_TO_POST
        else (Direction.INTAKE, {ItemStatus.ACCEPTED, ItemStatus.IN_TRANSIT})
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
    append_event(
        item,
        by=by,
        action="item.added_to_handover",
        details={"handover": handover.number, "complete": complete},
    )
    return line


@transaction.atomic
def set_line_complete(*, line: HandoverLine, by: User, complete: bool, note: str = "") -> HandoverLine:
    handover = _lock_handover(line.handover)
    _ensure_editable(handover)
    if signing_side(by, handover) is None:
        raise ValidationError(_("You are not a party to this handover record."))
    line.complete = complete
    line.note = note
    line.save(update_fields=["complete", "note"])
    append_event(
        line.item,
        by=by,
        action="item.handover_line_marked",
        details={"handover": handover.number, "complete": complete},
    )
    return line


@transaction.atomic
def remove_line(*, line: HandoverLine, by: User) -> None:
    handover = _lock_handover(line.handover)
    _ensure_editable(handover)
    if signing_side(by, handover) is None:
        raise ValidationError(_("You are not a party to this handover record."))
    append_event(line.item, by=by, action="item.removed_from_handover", details={"handover": handover.number})
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
    side = signing_side(by, handover)
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
            append_event(
                item, by=by, action="item.handover_incomplete", at=at, details={"handover": handover.number}
            )
            continue
        if handover.direction == HandoverDirection.DESK_TO_POST:
            if item.status != ItemStatus.CREATED:
                raise ValidationError(
                    _("Item %(code)s changed since it was scanned; nothing was signed.") % {"code": item.code}
                )
            item.handover_date = local_date(at)
            item.target_date = workdays.add_working_days(
                item.handover_date,
                target_days(item.tier),
                province=calendar.province_of(item.dossier.receiving_unit),
            )
            _move(item, ItemStatus.ACCEPTED, by=by, action="item.accepted", at=at, handover=handover.number)
            item.save()
            append_event(
                item.dossier,
                by=by,
                action="postal.handed_to_post",
                details={"item": item.code, "handover": handover.number},
            )
        else:
            if (
                item.status not in (ItemStatus.ACCEPTED, ItemStatus.IN_TRANSIT)
                or item.dossier.status != Status.REGISTERED
            ):
                raise ValidationError(
                    _("Item %(code)s changed since it was scanned; nothing was signed.") % {"code": item.code}
                )
            item.handover_date = local_date(at)
            item.recipient_name = desk_signer.get_full_name()
            item.id_checked = True
            item.delivered_at = at
            _move(
                item,
                ItemStatus.DELIVERED,
                by=by,
                action="item.handed_to_desk",
                at=at,
                handover=handover.number,
            )
            item.save()
            # The signature is the legal submission time (Decision 45/2016).
            dossier_services.record_legal_submission(dossier=item.dossier, by=by, at=at)
    return handover
