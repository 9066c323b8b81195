"""Writes to units and the post office network.

- administrative units: loading the official list and district groupings;
- post offices: create and update, each change appended to ``PostOfficeEvent``;
- network actions: the improvement plan, each change appended to ``NetworkActionEvent``, with
  the allowed status changes in ``ACTION_TRANSITIONS``.

Every write takes the acting user (``by``; ``None`` for the system: demo data, command-line
imports) and runs in one transaction. Bad input raises ``ValidationError`` with field-keyed
messages and saves nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import can_edit_network
from communes import scoping
from communes.models import (
    FLOOR_AREA_MESSAGE,
    MAX_FLOOR_AREA_M2,
    AdministrativeUnit,
    NetworkAction,
    PostOffice,
)
from core import transitions
from core.events import append_event

# The two-level structure (34 provinces, 3,321 communes) took effect on this day.
REFORM_DATE = date(2025, 7, 1)

Level = AdministrativeUnit.Level
Kind = AdministrativeUnit.Kind


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _official_units():
    """Provinces and communes as (code, name, level, kind, parent_code), from vietnam-provinces."""
    from vietnam_provinces import Province, VietNamDivisionType, Ward

    kinds = {
        VietNamDivisionType.TINH: Kind.PROVINCE,
        VietNamDivisionType.THANH_PHO_TRUNG_UONG: Kind.CITY,
        VietNamDivisionType.XA: Kind.COMMUNE,
        VietNamDivisionType.PHUONG: Kind.WARD,
        VietNamDivisionType.DAC_KHU: Kind.SPECIAL_ZONE,
    }
    for province in Province.iter_all():
        yield f"{int(province.code):02d}", province.name, Level.PROVINCE, kinds[province.division_type], None
    for ward in Ward.iter_all():
        yield (
            f"{int(ward.code):05d}",
            ward.name,
            Level.COMMUNE,
            kinds[ward.division_type],
            f"{int(ward.province_code):02d}",
        )


@transaction.atomic
def load_official_units() -> LoadResult:
    """Create or update provinces and communes; a second run changes nothing.

    A commune that an administrator placed in a district grouping of the right province keeps
    that grouping as its parent.
    """
    result = LoadResult()
    existing = {unit.code: unit for unit in AdministrativeUnit.objects.all()}
    by_id = {unit.id: unit for unit in existing.values()}
    rows = list(_official_units())

    def apply(code, name, level, kind, parent):
        unit = existing.get(code)
        if unit is None:
            unit = AdministrativeUnit.objects.create(
                code=code, name=name, level=level, kind=kind, parent=parent, valid_from=REFORM_DATE
            )
            existing[code] = unit
            result.created += 1
            return
        current_parent = by_id.get(unit.parent_id)
        keeps_grouping = (
            parent is not None
            and current_parent is not None
            and current_parent.level == Level.DISTRICT
            and current_parent.parent_id == parent.id
        )
        wanted_parent_id = unit.parent_id if keeps_grouping else (parent.id if parent else None)
        if (unit.name, unit.level, unit.kind, unit.parent_id) == (name, level, kind, wanted_parent_id):
            result.unchanged += 1
            return
        unit.name, unit.level, unit.kind, unit.parent_id = name, level, kind, wanted_parent_id
        unit.save(update_fields=["name", "level", "kind", "parent"])
        result.updated += 1

    for code, name, level, kind, parent_code in rows:
        if parent_code is None:
            apply(code, name, level, kind, None)
    for code, name, level, kind, parent_code in rows:
        if parent_code is not None:
            apply(code, name, level, kind, existing[parent_code])
    return result


@transaction.atomic
def define_district(
    *,
    code: str,
    name: str,
    province_code: str,
    commune_codes: list[str],
    kind: str = Kind.DISTRICT,
    identifier: str = "",
) -> AdministrativeUnit:
    """Group communes of one province under a district-level unit (idempotent)."""
    try:
        province = AdministrativeUnit.objects.get(code=province_code, level=Level.PROVINCE)
    except AdministrativeUnit.DoesNotExist:
        raise ValidationError(_("Province %(code)s does not exist.") % {"code": province_code}) from None
    communes = list(AdministrativeUnit.objects.filter(code__in=commune_codes, level=Level.COMMUNE))
    missing = sorted(set(commune_codes) - {c.code for c in communes})
    if missing:
        raise ValidationError(_("Unknown communes: %(codes)s.") % {"codes": ", ".join(missing)})
    foreign = [
        c.code
        for c in communes
        if c.parent_id != province.id and (c.parent is None or c.parent.parent_id != province.id)
    ]
    if foreign:
        raise ValidationError(
            _("Communes outside province %(province)s: %(codes)s.")
            % {"province": province.name, "codes": ", ".join(foreign)}
        )
    district, _created = AdministrativeUnit.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "level": Level.DISTRICT,
            "kind": kind,
            "parent": province,
            "identifier": identifier,
        },
    )
    AdministrativeUnit.objects.filter(id__in=[c.id for c in communes]).update(parent=district)
    return district


# ---------------------------------------------------------------------------------------------
# Post offices

# The fields of a post office that people edit (forms, imports); the rest is bookkeeping.
OFFICE_FIELDS = (
    "code",
    "name",
    "kind",
    "commune",
    "parent",
    "address",
    "latitude",
    "longitude",
    "status",
    "premises",
    "floor_area_m2",
    "condition",
    "staff_count",
    "combined_with_desk",
    "offers_bcci_intake",
    "offers_bcci_return",
    "offers_online_assistance",
    "offers_digitisation",
    "opening_hours",
)
# More staff than this at one office is a typing error (a provincial post centre has ~200).
MAX_STAFF = 1000


def require_editor(by) -> None:
    """403 for a user whose role may not change the network (``None`` is the system)."""
    if by is not None and not can_edit_network(by):
        raise PermissionDenied


def _json_value(value: Any) -> Any:
    """A field value as it is kept in event details: codes for offices and units."""
    if isinstance(value, models.Model):
        return getattr(value, "code", value.pk)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _field_value(office: PostOffice, field: str) -> Any:
    if field in ("commune", "parent"):
        return getattr(office, f"{field}_id")
    return getattr(office, field)


def _validate_office(office: PostOffice, *, by, trusted_parent_ids: Collection[int] = ()) -> None:
    """Everything that makes an office record right, as field-keyed Vietnamese messages."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    unit_ids = scoping.unit_ids(by) if by is not None else scoping.ALL
    commune = office.commune if office.commune_id else None
    if commune is not None:
        if commune.level != AdministrativeUnit.Level.COMMUNE:
            add("commune", _("Choose a commune or ward, not a province or district."))
        elif unit_ids is not scoping.ALL and commune.pk not in unit_ids:
            add("commune", _("%(commune)s is outside your scope.") % {"commune": commune.name})
    parent = office.parent if office.parent_id else None
    if parent is not None:
        ancestor, seen = parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if office.pk and ancestor.pk == office.pk:
                add("parent", _("An office cannot be placed under itself or an office under it."))
                break
            seen.add(ancestor.pk)
            ancestor = ancestor.parent
        office_ids = scoping.post_office_ids(by) if by is not None else scoping.ALL
        if (
            office_ids is not scoping.ALL
            and parent.pk not in office_ids
            and parent.pk not in trusted_parent_ids
        ):
            add("parent", _("Office %(code)s is outside your scope.") % {"code": parent.code})
    elif by is not None and not by.is_administrator and office.pk != by.post_office_id:
        # Without a parent in their network the office would drop out of the editor's scope.
        add("parent", _("Choose the parent office within your network."))
    area = office.floor_area_m2
    if area is not None and not (0 < area <= MAX_FLOOR_AREA_M2):
        add("floor_area_m2", str(FLOOR_AREA_MESSAGE))
    if office.staff_count is not None and office.staff_count > MAX_STAFF:
        add("staff_count", _("Staff count must be at most %(max)s.") % {"max": MAX_STAFF})
    if (office.latitude is None) != (office.longitude is None):
        add(
            "longitude" if office.longitude is None else "latitude",
            _("Enter both latitude and longitude, or neither."),
        )
    try:
        office.full_clean(exclude=list(errors))
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def save_post_office(
    *, office: PostOffice | None, by, data: Mapping[str, Any], source: str, trusted_parent_ids=()
) -> tuple[PostOffice, bool]:
    """Create (``office=None``) or update one office; returns it and whether anything changed.

    The building block of the form services and the import; call it inside a transaction.
    ``trusted_parent_ids`` are offices an import created a moment ago, not yet in the scope cache.
    """
    unknown = set(data) - set(OFFICE_FIELDS)
    if unknown:
        raise TypeError(f"not office fields: {sorted(unknown)}")
    creating = office is None
    if creating:
        office = PostOffice()
        before: dict[str, Any] = {}
    else:
        office = (
            PostOffice.objects.select_for_update(of=("self",))
            .select_related("commune", "parent")
            .get(pk=office.pk)
        )
        before = {field: (_field_value(office, field), _json_value(getattr(office, field))) for field in data}
    old_status = office.status
    for field, value in data.items():
        setattr(office, field, value)
    changed = [f for f in data if creating or before[f][0] != _field_value(office, f)]
    if not changed:
        return office, False
    _validate_office(office, by=by, trusted_parent_ids=trusted_parent_ids)
    office.save()
    details: dict[str, Any] = {"source": source} if source else {}
    if creating:
        details["fields"] = {f: _json_value(getattr(office, f)) for f in OFFICE_FIELDS}
    else:
        details["changes"] = {f: [before[f][1], _json_value(getattr(office, f))] for f in changed}
    append_event(
        office,
        by=by,
        action="post_office.created" if creating else "post_office.updated",
        from_status="" if creating else old_status,
        to_status=office.status,
        details=details,
    )
    return office, True


@transaction.atomic
def post_office_create(*, by, data: Mapping[str, Any]) -> PostOffice:
    """Add an office to the registry (post managers within their network, administrators)."""
    require_editor(by)
    office, _changed = save_post_office(office=None, by=by, data=data, source="form")
    return office


@transaction.atomic
def post_office_update(*, office: PostOffice, by, data: Mapping[str, Any]) -> PostOffice:
    """Change an office's record; an unchanged form appends no event."""
    require_editor(by)
    if by is not None:
        office_ids = scoping.post_office_ids(by)
        if office_ids is not scoping.ALL and office.pk not in office_ids:
            raise PermissionDenied
    office, _changed = save_post_office(office=office, by=by, data=data, source="form")
    return office


# ---------------------------------------------------------------------------------------------
# Network actions (the improvement plan)

ActionStatus = NetworkAction.Status
ActionKind = NetworkAction.Kind

# The whole state machine: from a status, the statuses an action may move to.
ACTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ActionStatus.PLANNED: frozenset({ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.CANCELLED}),
    ActionStatus.IN_PROGRESS: frozenset({ActionStatus.DONE, ActionStatus.CANCELLED}),
    ActionStatus.DONE: frozenset(),
    ActionStatus.CANCELLED: frozenset(),
}
# These change a building, so they are about an existing office.
KINDS_FOR_AN_OFFICE = frozenset({ActionKind.REPAIR, ActionKind.REFURBISH, ActionKind.ENLARGE})


def _check_action_place(*, by, kind: str, commune, post_office) -> AdministrativeUnit:
    """The commune an action is for, after checking the office/commune pair and the scope."""
    if post_office is not None:
        office_ids = scoping.post_office_ids(by) if by is not None else scoping.ALL
        if office_ids is not scoping.ALL and post_office.pk not in office_ids:
            raise ValidationError(
                {"post_office": _("Office %(code)s is outside your scope.") % {"code": post_office.code}}
            )
        if commune is not None and commune.pk != post_office.commune_id:
            raise ValidationError({"commune": _("The office is not in this commune.")})
        return post_office.commune
    if kind in KINDS_FOR_AN_OFFICE:
        raise ValidationError(
            {"post_office": _("A repair, refurbishment or enlargement is for an existing office: choose it.")}
        )
    if commune is None:
        raise ValidationError({"commune": _("Choose an office or a commune.")})
    if commune.level != AdministrativeUnit.Level.COMMUNE:
        raise ValidationError({"commune": _("Choose a commune or ward, not a province or district.")})
    unit_ids = scoping.unit_ids(by) if by is not None else scoping.ALL
    if unit_ids is not scoping.ALL and commune.pk not in unit_ids:
        raise ValidationError(
            {"commune": _("%(commune)s is outside your scope.") % {"commune": commune.name}}
        )
    return commune


def _action_event(action: NetworkAction, *, by, verb: str, from_status: str = "", details=None) -> None:
    append_event(
        action,
        by=by,
        action=f"network_action.{verb}",
        from_status=from_status,
        to_status=action.status,
        details=details,
    )


@transaction.atomic
def network_action_create(
    *,
    by,
    kind: str,
    responsible: str,
    due_date: date,
    commune: AdministrativeUnit | None = None,
    post_office: PostOffice | None = None,
    notes: str = "",
) -> NetworkAction:
    """Record a planned improvement for an office or a commune."""
    require_editor(by)
    commune = _check_action_place(by=by, kind=kind, commune=commune, post_office=post_office)
    if due_date is None:
        raise ValidationError({"due_date": _("Enter the due date.")})
    action = NetworkAction(
        kind=kind,
        commune=commune,
        post_office=post_office,
        responsible=responsible,
        due_date=due_date,
        notes=notes.strip(),
        created_by=by,
    )
    action.full_clean()
    action.save()
    _action_event(
        action,
        by=by,
        verb="created",
        details={
            "kind": kind,
            "commune": commune.code,
            "post_office": post_office.code if post_office else None,
            "responsible": responsible,
            "due_date": due_date.isoformat(),
        },
    )
    return action


def _locked(action: NetworkAction) -> NetworkAction:
    """The action's row, locked until the transaction ends: two editors never lose a change."""
    return transitions.lock(
        NetworkAction.objects.select_related("post_office", "commune"), action.pk, of=("self",)
    )


def _check_open(action: NetworkAction) -> None:
    if not action.is_open:
        raise ValidationError(
            _("This action is already %(status)s and can no longer be changed.")
            % {"status": action.get_status_display().lower()}
        )


@transaction.atomic
def network_action_update(
    *, network_action: NetworkAction, by, responsible: str, due_date: date, notes: str
) -> NetworkAction:
    """Change who is responsible, the due date or the notes of an open action."""
    require_editor(by)
    action = _locked(network_action)
    _check_action_place(by=by, kind=action.kind, commune=action.commune, post_office=action.post_office)
    _check_open(action)
    if due_date is None:
        raise ValidationError({"due_date": _("Enter the due date.")})
    new = {"responsible": responsible, "due_date": due_date, "notes": notes.strip()}
    changes = {
        field: [_json_value(getattr(action, field)), _json_value(value)]
        for field, value in new.items()
        if getattr(action, field) != value
    }
    if not changes:
        return action
    for field, value in new.items():
        setattr(action, field, value)
    action.full_clean()
    action.save()
    _action_event(action, by=by, verb="updated", from_status=action.status, details={"changes": changes})
    return action


def _move(action: NetworkAction, to_status: str) -> str:
    if not transitions.allowed(ACTION_TRANSITIONS, action.status, to_status):
        _check_open(action)
        raise ValidationError(
            _("An action that is %(status)s cannot be moved to that status.")
            % {"status": action.get_status_display().lower()}
        )
    from_status, action.status = action.status, to_status
    return from_status


@transaction.atomic
def network_action_start(*, network_action: NetworkAction, by, note: str = "") -> NetworkAction:
    """Work on a planned action has begun."""
    require_editor(by)
    action = _locked(network_action)
    _check_action_place(by=by, kind=action.kind, commune=action.commune, post_office=action.post_office)
    from_status = _move(action, ActionStatus.IN_PROGRESS)
    action.save(update_fields=["status", "updated_at"])
    _action_event(
        action, by=by, verb="started", from_status=from_status, details={"note": note} if note else {}
    )
    return action


@transaction.atomic
def network_action_complete(
    *,
    network_action: NetworkAction,
    by,
    completed_on: date,
    office_condition: str = "",
    note: str = "",
) -> NetworkAction:
    """Mark an action done; for an office, optionally record its condition now (same transaction)."""
    require_editor(by)
    action = _locked(network_action)
    _check_action_place(by=by, kind=action.kind, commune=action.commune, post_office=action.post_office)
    if completed_on is None:
        raise ValidationError({"completed_on": _("Enter the completion date.")})
    recorded_on = timezone.localdate(action.created_at)
    if completed_on < recorded_on:
        raise ValidationError(
            {
                "completed_on": _("The completion date cannot be before the action was recorded (%(date)s).")
                % {"date": recorded_on.strftime("%d/%m/%Y")}
            }
        )
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": _("The completion date cannot be in the future.")})
    if office_condition and action.post_office is None:
        raise ValidationError({"office_condition": _("This action is not for an office.")})
    if office_condition and office_condition not in PostOffice.Condition.values:
        raise ValidationError({"office_condition": _("Choose a valid condition.")})
    from_status = _move(action, ActionStatus.DONE)
    action.completed_on = completed_on
    action.save(update_fields=["status", "completed_on", "updated_at"])
    details: dict[str, Any] = {"completed_on": completed_on.isoformat()}
    if note:
        details["note"] = note
    office = action.post_office
    if office_condition and office is not None:
        office = PostOffice.objects.select_for_update().get(pk=office.pk)
        details["office_condition"] = [office.condition, office_condition]
        if office.condition != office_condition:
            append_event(
                office,
                by=by,
                action="post_office.updated",
                from_status=office.status,
                to_status=office.status,
                details={
                    "source": "network_action",
                    "network_action": action.pk,
                    "changes": {"condition": [office.condition, office_condition]},
                },
            )
            office.condition = office_condition
            office.save(update_fields=["condition", "updated_at"])
            action.post_office = office
    _action_event(action, by=by, verb="done", from_status=from_status, details=details)
    return action


@transaction.atomic
def network_action_cancel(*, network_action: NetworkAction, by, reason: str) -> NetworkAction:
    """Drop an open action, saying why."""
    require_editor(by)
    action = _locked(network_action)
    _check_action_place(by=by, kind=action.kind, commune=action.commune, post_office=action.post_office)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the action is cancelled.")})
    from_status = _move(action, ActionStatus.CANCELLED)
    action.save(update_fields=["status", "updated_at"])
    _action_event(action, by=by, verb="cancelled", from_status=from_status, details={"reason": reason})
    return action
