"""Writes for the plan to transfer desk tasks to postal staff: per commune, field and
task, a planned date, the date done, the staff assigned and a status; every change is kept as a
TaskTransferEvent with its actor."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.permissions import can_plan_transfers
from communes import scoping
from communes.models import AdministrativeUnit
from core.events import append_event
from dossiers.models import ProcedureField
from postal.models import TaskTransfer


def _ensure_planner(by: User, unit: AdministrativeUnit) -> None:
    if not can_plan_transfers(by):
        raise ValidationError(_("Only post managers and leaders plan task transfers."))
    ids = scoping.unit_ids(by)
    if ids is not None and unit.pk not in ids:
        raise ValidationError(_("%(unit)s is outside your scope.") % {"unit": unit.name})
    if unit.level != AdministrativeUnit.Level.COMMUNE:
        raise ValidationError(_("Tasks are transferred commune by commune: choose a commune."))


def _check_staff(staff, unit: AdministrativeUnit) -> list[User]:
    staff = list(staff or [])
    for person in staff:
        if person.role != Role.POSTAL_STAFF:
            raise ValidationError(_("%(name)s is not postal staff.") % {"name": person.get_full_name()})
    return staff


def _event(transfer: TaskTransfer, by: User, action: str, **details) -> None:
    append_event(transfer, by=by, action=action, details=details)


def _field(field_id) -> ProcedureField:
    try:
        return ProcedureField.objects.get(pk=int(field_id))
    except (ProcedureField.DoesNotExist, TypeError, ValueError):
        raise ValidationError(_("This procedure field does not exist.")) from None


@transaction.atomic
def plan_transfer(
    *,
    by: User,
    unit: AdministrativeUnit,
    field: ProcedureField | int,
    task: str,
    planned_date: date,
    staff=(),
    note: str = "",
) -> TaskTransfer:
    field = field if isinstance(field, ProcedureField) else _field(field)
    _ensure_planner(by, unit)
    if task not in TaskTransfer.Task.values:
        raise ValidationError(_("Choose a task to transfer."))
    if planned_date is None:
        raise ValidationError(_("Enter the planned date."))
    staff = _check_staff(staff, unit)
    try:
        with transaction.atomic():
            transfer = TaskTransfer.objects.create(
                unit=unit, field=field, task=task, planned_date=planned_date, note=note
            )
    except IntegrityError:
        raise ValidationError(
            _("This task of %(field)s is already planned for %(unit)s.")
            % {"field": field.name, "unit": unit.name}
        ) from None
    transfer.staff.set(staff)
    _event(
        transfer,
        by,
        "transfer.planned",
        planned_date=planned_date.isoformat(),
        staff=[p.pk for p in staff],
    )
    return transfer


@transaction.atomic
def update_transfer(
    *,
    transfer: TaskTransfer,
    by: User,
    planned_date: date | None = None,
    staff=None,
    status: str | None = None,
    note: str | None = None,
) -> TaskTransfer:
    transfer = TaskTransfer.objects.select_for_update().get(pk=transfer.pk)
    _ensure_planner(by, transfer.unit)
    changes: dict = {}
    if planned_date is not None and planned_date != transfer.planned_date:
        changes["planned_date"] = [transfer.planned_date.isoformat(), planned_date.isoformat()]
        transfer.planned_date = planned_date
    if status is not None and status != transfer.status:
        if status not in (
            TaskTransfer.Status.PLANNED,
            TaskTransfer.Status.IN_PROGRESS,
            TaskTransfer.Status.CANCELLED,
        ):
            raise ValidationError(_("Use “complete” to mark a transfer done."))
        changes["status"] = [transfer.status, status]
        transfer.status = status
        if transfer.done_date:
            transfer.done_date = None
    if note is not None and note != transfer.note:
        changes["note"] = True
        transfer.note = note
    transfer.save()
    if staff is not None:
        staff = _check_staff(staff, transfer.unit)
        before = sorted(transfer.staff.values_list("pk", flat=True))
        after = sorted(p.pk for p in staff)
        if before != after:
            transfer.staff.set(staff)
            changes["staff"] = [before, after]
    if changes:
        _event(transfer, by, "transfer.updated", **changes)
    return transfer


@transaction.atomic
def complete_transfer(*, transfer: TaskTransfer, by: User, done_date: date, note: str = "") -> TaskTransfer:
    transfer = TaskTransfer.objects.select_for_update().get(pk=transfer.pk)
    _ensure_planner(by, transfer.unit)
    if done_date is None:
        raise ValidationError(_("Enter the date the task was transferred."))
    if done_date > timezone.localdate():
        raise ValidationError(_("The date done cannot be in the future."))
    if transfer.status == TaskTransfer.Status.CANCELLED:
        raise ValidationError(_("A cancelled transfer cannot be completed."))
    transfer.status = TaskTransfer.Status.DONE
    transfer.done_date = done_date
    if note:
        transfer.note = note
    transfer.save()
    _event(
        transfer,
        by,
        "transfer.done",
        done_date=done_date.isoformat(),
        late=done_date > transfer.planned_date,
    )
    return transfer
