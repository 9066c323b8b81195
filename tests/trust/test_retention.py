"""`anonymise_dossiers`: applicants of dossiers closed long ago are erased; counts stay."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command

from dossiers.models import Dossier, DossierEvent, ReturnChannel, Status
from postal.models import DeliveryAttempt, ItemStatus, PickupAppointment, PostalItem
from privacy.models import AnonymisedDossier
from privacy.retention import ANONYMISED, EVENT_ACTION, anonymise_closed_dossiers
from tests.postal.conftest import at

pytestmark = pytest.mark.django_db

NOW = at("2031-06-01", 12)  # five years and three months after the dossiers of March 2026


@pytest.fixture
def old_returned(make_dossier, post_office, postal_staff, appointment):
    dossier = make_dossier(
        status=Status.RETURNED,
        applicant_id_number="044090001234",
        returned_at=at("2026-03-05", 10),
        timeliness="early",
    )
    item = PostalItem.objects.create(
        code="EB123456785VN", dossier=dossier, direction="return", post_office=post_office,
        status=ItemStatus.DELIVERED, recipient_name="Nguyễn Văn An", recipient_address="Thôn 1",
        recipient_phone="0987654321", recipient_is_proxy=True, proxy_authorisation="GUQ 12/2026",
        id_checked=True, delivered_at=at("2026-03-05", 10),
    )  # fmt: skip
    DeliveryAttempt.objects.create(
        item=item, at=at("2026-03-05", 10), outcome="delivered", note="Gọi 0987654321", by=postal_staff
    )
    PickupAppointment.objects.filter(pk=appointment.pk).update(dossier=dossier, status="done")
    return dossier


@pytest.fixture
def recent_returned(make_dossier):
    return make_dossier(
        status=Status.RETURNED,
        received_at=at("2027-01-04", 9),
        finished_at=at("2027-01-04", 15),
        returned_at=at("2027-01-05", 10),
    )


@pytest.fixture
def old_open(make_dossier):
    return make_dossier(status=Status.PROCESSING, return_channel=ReturnChannel.DESK, decline_reason="fee")


def counts():
    """What the reports read: statuses, channels, reasons, dates, timeliness."""
    return sorted(
        Dossier.objects.values_list(
            "id", "status", "intake_channel", "return_channel", "decline_reason",
            "received_at", "due_date", "finished_at", "returned_at", "timeliness", "procedure_id",
            "receiving_unit_id",
        )
    )  # fmt: skip


def test_closed_dossier_older_than_the_retention_is_anonymised(old_returned, recent_returned, old_open):
    before = counts()
    items_before = list(PostalItem.objects.values_list("status", "delivered_at", "handover_date"))
    result = anonymise_closed_dossiers(years=5, now=NOW)

    assert (result.dossiers, result.items, result.appointments) == (1, 1, 1)
    old_returned.refresh_from_db()
    assert old_returned.applicant_name == ANONYMISED
    assert (
        old_returned.applicant_phone,
        old_returned.applicant_address,
        old_returned.applicant_id_number,
    ) == ("", "", "")
    item = PostalItem.objects.get()
    assert (item.recipient_name, item.recipient_phone, item.recipient_address) == (ANONYMISED, "", "")
    assert item.proxy_authorisation == ANONYMISED
    assert DeliveryAttempt.objects.get().note == ""
    appointment = PickupAppointment.objects.get()
    assert (appointment.citizen_name, appointment.citizen_phone, appointment.address) == (ANONYMISED, "", "")

    # Counts and dates the reports need are unchanged; the others keep their applicants.
    assert counts() == before
    assert list(PostalItem.objects.values_list("status", "delivered_at", "handover_date")) == items_before
    for dossier in (recent_returned, old_open):
        dossier.refresh_from_db()
        assert dossier.applicant_name == "Nguyễn Văn An" and dossier.applicant_phone == "0912345678"

    event = DossierEvent.objects.get(action=EVENT_ACTION)
    assert event.dossier_id == old_returned.pk and event.details == {"retention_years": 5}


def test_second_run_changes_nothing(old_returned):
    anonymise_closed_dossiers(years=5, now=NOW)
    again = anonymise_closed_dossiers(years=5, now=NOW)
    assert (again.dossiers, again.items, again.appointments) == (0, 0, 0)
    assert DossierEvent.objects.filter(action=EVENT_ACTION).count() == 1
    assert AnonymisedDossier.objects.count() == 1


def test_dry_run_counts_without_changing(old_returned, recent_returned):
    result = anonymise_closed_dossiers(years=5, now=NOW, dry_run=True)
    assert (result.dossiers, result.items, result.appointments) == (1, 1, 1)
    old_returned.refresh_from_db()
    assert old_returned.applicant_phone == "0912345678"
    assert (
        not AnonymisedDossier.objects.exists()
        and not DossierEvent.objects.filter(action=EVENT_ACTION).exists()
    )


def test_a_longer_retention_keeps_the_dossier(old_returned):
    assert anonymise_closed_dossiers(years=6, now=NOW).dossiers == 0


def test_batches_cover_every_dossier(make_dossier):
    for _ in range(7):
        make_dossier(status=Status.FINISHED)
    result = anonymise_closed_dossiers(years=5, now=NOW, batch_size=3)
    assert (result.dossiers, result.batches) == (7, 3)
    assert set(Dossier.objects.values_list("applicant_name", flat=True)) == {ANONYMISED}


def test_unlinked_old_appointments_are_anonymised_booked_ones_kept(appointment):
    PickupAppointment.objects.filter(pk=appointment.pk).update(status="missed")
    assert anonymise_closed_dossiers(years=5, now=NOW).appointments == 1
    assert PickupAppointment.objects.get().citizen_phone == ""


def test_weekly_rates_are_the_same_after_anonymising(old_returned, recent_returned, old_open):
    from reports.models import COUNTERS, WeeklyRate
    from reports.services.aggregation import compute_weeks

    def snapshot():
        compute_weeks(mondays=[at("2026-03-02", 0).date(), at("2027-01-04", 0).date()])
        return sorted(WeeklyRate.objects.values_list("unit_id", "week_start", *COUNTERS))

    before = snapshot()
    assert any(any(row[2:]) for row in before)
    anonymise_closed_dossiers(years=5, now=NOW)
    assert snapshot() == before


def test_command_uses_the_setting_and_reports_counts(old_returned, settings):
    settings.RETENTION_YEARS = 5
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("anonymise_dossiers", "--dry-run", stdout=out)
        assert "1" in out.getvalue()
        old_returned.refresh_from_db()
        assert old_returned.applicant_phone
        call_command("anonymise_dossiers", stdout=StringIO())
    old_returned.refresh_from_db()
    assert old_returned.applicant_phone == ""


def test_command_refuses_less_than_one_year(db):
    with pytest.raises(CommandError):
        call_command("anonymise_dossiers", "--years", "0")


def test_timeline_names_the_anonymisation(client_for, official, old_returned):
    anonymise_closed_dossiers(years=5, now=NOW)
    from django.urls import reverse

    page = client_for(official).get(reverse("dossiers:detail", args=[old_returned.pk])).content.decode()
    assert EVENT_ACTION not in page


def test_messages_ratings_and_portal_payloads_are_anonymised_too(old_returned, recent_returned):
    from datetime import timedelta

    from dvcqg.models import SyncEntry
    from notify.models import Message, Rating

    for dossier in (old_returned, recent_returned):
        Message.objects.create(
            dossier=dossier, event="delivered", channel="sms", status="sent", phone="0912345678", text="…"
        )
        Rating.objects.create(
            dossier=dossier, token=f"t{dossier.pk}", unit=dossier.receiving_unit, stars=2,
            comment="Gọi tôi 0912345678", answered_at=at("2026-03-06", 9),
            expires_at=at("2026-03-06", 9) + timedelta(days=30),
        )  # fmt: skip
        SyncEntry.objects.create(
            dossier=dossier, seq=1, action="dossier.returned", status="sent",
            payload={"MaHoSo": dossier.code, "ChuHoSo": dossier.applicant_name, "TrangThaiHoSo": 10},
            changed_at=at("2026-03-05", 10), deadline_at=at("2026-03-06", 10), sent_at=at("2026-03-05", 11),
        )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        anonymise_closed_dossiers(years=5)
    old = (Message.objects.get(dossier=old_returned), Rating.objects.get(dossier=old_returned))
    assert old[0].phone == "" and old[1].comment == "" and old[1].stars == 2  # counted still
    assert SyncEntry.objects.get(dossier=old_returned).payload["ChuHoSo"] == ANONYMISED
    assert SyncEntry.objects.get(dossier=old_returned).payload["TrangThaiHoSo"] == 10
    assert Message.objects.get(dossier=recent_returned).phone == "0912345678"
    assert Rating.objects.get(dossier=recent_returned).comment


def test_signatures_and_photos_of_delivery_are_erased_with_their_files(
    old_returned, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile

    settings.PRIVATE_MEDIA_ROOT = tmp_path
    attempt = DeliveryAttempt.objects.get(item__dossier=old_returned)
    attempt.signature.save("s.png", ContentFile(b"signature"), save=False)
    attempt.photo.save("p.jpg", ContentFile(b"photo"), save=False)
    attempt.save()
    files = [attempt.signature.path, attempt.photo.path]
    assert all(Path(f).exists() for f in files)
    with time_machine.travel(NOW), django_capture_on_commit_callbacks(execute=True):
        anonymise_closed_dossiers(years=5)
    attempt.refresh_from_db()
    assert not attempt.signature and not attempt.photo
    assert not any(Path(f).exists() for f in files)
