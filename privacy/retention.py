"""Retention: erase applicants' personal data from dossiers closed more than N years ago.

What goes: the applicant's name, phone, address and identity number; the recipients of the
dossier's postal items (name, address, phone, proxy authorisation) and the notes of delivery
attempts; the citizens of pickup appointments (name, phone, address, note). What stays: every
count the reports need — statuses, dates, channels, timeliness, reasons for declining postal
return, procedures, units, items' statuses and dates — and the whole event history (which never
holds personal data). A dossier done once is marked (AnonymisedDossier) and skipped afterwards,
so the command can run every night. Each batch is one transaction; an interrupted run leaves
whole batches done and the next run carries on.

Bulk ``update()`` is used on purpose: it sends no post_save signal, so the weekly rates are not
marked dirty — no counted value changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from dossiers import statuses
from dossiers.models import Dossier, DossierEvent
from postal.models import DeliveryAttempt, PickupAppointment, PostalItem
from privacy.models import AnonymisedDossier

logger = logging.getLogger(__name__)

# What replaces a name that a database rule requires (a delivered item keeps a recipient).
ANONYMISED = "(đã ẩn danh)"
EVENT_ACTION = "dossier.anonymised"


@dataclass
class RetentionResult:
    cutoff: datetime
    dossiers: int = 0
    items: int = 0
    appointments: int = 0
    batches: int = 0
    dry_run: bool = False


def cutoff_for(years: int, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February in a year without one
        return now.replace(year=now.year - years, day=28)


def candidates(cutoff: datetime):
    """Closed dossiers whose end (returned, else finished, else last change) is before the cutoff."""
    return (
        Dossier.objects.exclude(status__in=statuses.OPEN)
        .alias(closed_at=Coalesce("returned_at", "finished_at", "updated_at"))
        .filter(closed_at__lt=cutoff)
        .exclude(id__in=AnonymisedDossier.objects.values("dossier_id"))
    )


def stale_appointments(cutoff: datetime):
    """Appointments that never became a dossier and ended before the cutoff."""
    return (
        PickupAppointment.objects.filter(dossier__isnull=True, slot_end__lt=cutoff)
        .exclude(status=PickupAppointment.Status.BOOKED)
        .exclude(citizen_name=ANONYMISED)
    )


def anonymise_closed_dossiers(
    *, years: int, now: datetime | None = None, dry_run: bool = False, batch_size: int = 500
) -> RetentionResult:
    if years < 1:
        raise ValueError("years must be at least 1")
    now = now or timezone.now()
    cutoff = cutoff_for(years, now)
    result = RetentionResult(cutoff=cutoff, dry_run=dry_run)
    if dry_run:
        result.dossiers = candidates(cutoff).count()
        result.items = PostalItem.objects.filter(dossier__in=candidates(cutoff)).count()
        result.appointments = (
            PickupAppointment.objects.filter(dossier__in=candidates(cutoff)).count()
            + stale_appointments(cutoff).count()
        )
        return result
    while True:
        ids = list(candidates(cutoff).order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        _anonymise_batch(ids, years=years, now=now, result=result)
    with transaction.atomic():
        result.appointments += stale_appointments(cutoff).update(
            citizen_name=ANONYMISED, citizen_phone="", address="", note=""
        )
    logger.info(
        "retention: %s dossiers, %s items, %s appointments anonymised (cutoff %s)",
        result.dossiers,
        result.items,
        result.appointments,
        cutoff.date(),
    )
    return result


@transaction.atomic
def _anonymise_batch(ids: list[int], *, years: int, now: datetime, result: RetentionResult) -> None:
    # Lock the batch; a row another run marked meanwhile drops out (idempotent under overlap).
    locked = list(
        Dossier.objects.select_for_update()
        .filter(id__in=ids)
        .exclude(id__in=AnonymisedDossier.objects.values("dossier_id"))
        .values_list("id", flat=True)
    )
    if not locked:
        return
    Dossier.objects.filter(id__in=locked).update(
        applicant_name=ANONYMISED, applicant_phone="", applicant_address="", applicant_id_number=""
    )
    items = PostalItem.objects.filter(dossier_id__in=locked)
    result.items += items.update(recipient_address="", recipient_phone="")
    items.filter(~Q(recipient_name="")).update(recipient_name=ANONYMISED)
    items.filter(~Q(proxy_authorisation="")).update(proxy_authorisation=ANONYMISED)
    DeliveryAttempt.objects.filter(item__dossier_id__in=locked).exclude(note="").update(note="")
    result.appointments += PickupAppointment.objects.filter(dossier_id__in=locked).update(
        citizen_name=ANONYMISED, citizen_phone="", address="", note=""
    )
    AnonymisedDossier.objects.bulk_create(
        AnonymisedDossier(dossier_id=pk, at=now, retention_years=years) for pk in locked
    )
    DossierEvent.objects.bulk_create(
        DossierEvent(
            dossier_id=pk, actor=None, at=now, action=EVENT_ACTION, details={"retention_years": years}
        )
        for pk in locked
    )
    result.dossiers += len(locked)
    result.batches += 1
