"""Handover records (biên bản giao nhận): preparing, signing by both sides, atomic effects, and the
legal submission time of dossiers received by post."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from dossiers import workdays
from dossiers.models import DossierDocument, IntakeChannel, Status
from postal import services
from postal.models import Handover, ItemStatus, PickupAppointment, PostalItem
from tests.postal.conftest import at

S = ItemStatus
D = Handover.Direction
DOCUMENTS = [
    {"name": "Tờ khai đăng ký khai sinh", "form": DossierDocument.Form.ORIGINAL, "count": 1},
    {"name": "Giấy chứng sinh", "form": DossierDocument.Form.COPY, "count": 2},
]


def new_handover(by, direction, commune, office):
    return services.create_handover(by=by, direction=direction, desk_unit=commune, post_office=office)


@pytest.fixture
def two_return_items(make_dossier, official):
    return [services.create_return_item(dossier=make_dossier(), by=official) for _ in range(2)]


@pytest.fixture
def prepared(two_return_items, official, commune, post_office):
    handover = new_handover(official, D.DESK_TO_POST, commune, post_office)
    for item in two_return_items:
        services.add_item_to_handover(handover=handover, by=official, code=item.code)
    return handover


def test_both_sides_sign_and_every_item_moves_on(prepared, official, postal_staff, two_return_items):
    services.sign_handover(handover=prepared, by=official, at=at("2026-03-05", 10))
    prepared.refresh_from_db()
    assert prepared.status == Handover.Status.DRAFT
    assert all(PostalItem.objects.get(pk=i.pk).status == S.CREATED for i in two_return_items)
    services.sign_handover(handover=prepared, by=postal_staff, at=at("2026-03-05", 10, 5))
    prepared.refresh_from_db()
    assert prepared.status == Handover.Status.SIGNED
    assert prepared.signed_at == at("2026-03-05", 10, 5)
    assert prepared.number.startswith("BBGN-")
    for item in two_return_items:
        item.refresh_from_db()
        assert (item.status, item.handover_date) == (S.ACCEPTED, date(2026, 3, 5))
        assert item.dossier.events.filter(action="postal.handed_to_post").exists()


def test_a_signed_record_cannot_change(prepared, official, postal_staff, make_dossier):
    services.sign_handover(handover=prepared, by=official)
    services.sign_handover(handover=prepared, by=postal_staff)
    extra = services.create_return_item(dossier=make_dossier(), by=official)
    with pytest.raises(ValidationError, match="đã ký"):
        services.add_item_to_handover(handover=prepared, by=official, code=extra.code)
    with pytest.raises(ValidationError, match="đã được ký"):
        services.sign_handover(handover=prepared, by=postal_staff)
    line = prepared.lines.first()
    with pytest.raises(ValidationError):
        services.set_line_complete(line=line, by=official, complete=False)
    assert prepared.lines.count() == 2


def test_an_empty_record_cannot_be_signed(official, commune, post_office):
    handover = new_handover(official, D.DESK_TO_POST, commune, post_office)
    with pytest.raises(ValidationError, match="biên bản trống"):
        services.sign_handover(handover=handover, by=official)
    handover.refresh_from_db()
    assert handover.desk_signed_by is None


def test_one_side_cannot_sign_twice(prepared, official):
    services.sign_handover(handover=prepared, by=official)
    with pytest.raises(ValidationError, match="bên kia cần ký"):
        services.sign_handover(handover=prepared, by=official)


def test_someone_of_another_commune_is_not_a_party(prepared, other_official, other_postal_staff):
    for outsider in (other_official, other_postal_staff):
        with pytest.raises(ValidationError, match="không phải một bên"):
            services.sign_handover(handover=prepared, by=outsider)


def test_a_failure_on_one_line_changes_nothing(prepared, official, postal_staff, two_return_items):
    services.sign_handover(handover=prepared, by=official)
    # The second item changes under the record (cancelled) before the post signs.
    services.scan_item(item=two_return_items[1], by=postal_staff, to_status=S.CANCELLED)
    with pytest.raises(ValidationError, match="chưa được ký"):
        services.sign_handover(handover=prepared, by=postal_staff)
    prepared.refresh_from_db()
    assert prepared.status == Handover.Status.DRAFT and prepared.post_signed_by is None
    first = PostalItem.objects.get(pk=two_return_items[0].pk)
    assert first.status == S.CREATED and first.handover_date is None
    assert not first.events.filter(action="item.accepted").exists()


def test_incomplete_lines_stay_behind(prepared, official, postal_staff, two_return_items):
    line = prepared.lines.get(item=two_return_items[1])
    services.set_line_complete(line=line, by=official, complete=False, note="Thiếu bản chính")
    services.sign_handover(handover=prepared, by=official)
    services.sign_handover(handover=prepared, by=postal_staff)
    assert PostalItem.objects.get(pk=two_return_items[0].pk).status == S.ACCEPTED
    assert PostalItem.objects.get(pk=two_return_items[1].pk).status == S.CREATED


def test_an_item_of_another_post_office_is_refused(
    official, commune, post_office, other_post_office, make_dossier
):
    item = services.create_return_item(dossier=make_dossier(), by=official, post_office=other_post_office)
    handover = new_handover(official, D.DESK_TO_POST, commune, post_office)
    with pytest.raises(ValidationError, match="bưu cục khác"):
        services.add_item_to_handover(handover=handover, by=official, code=item.code)
    assert not handover.lines.exists()


def test_an_item_cannot_be_on_two_open_records(prepared, official, commune, post_office, two_return_items):
    second = new_handover(official, D.DESK_TO_POST, commune, post_office)
    with pytest.raises(ValidationError, match="biên bản khác chưa ký"):
        services.add_item_to_handover(handover=second, by=official, code=two_return_items[0].code)


# --- BCCI intake: the signature is the legal submission time --------------------------------


@pytest.fixture
def intake_item(postal_staff, commune, procedure):
    return services.receive_bcci_dossier(
        by=postal_staff,
        receiving_unit=commune,
        procedure=procedure,
        applicant_name="Hoàng Thị Cúc",
        applicant_phone="0912000111",
        applicant_address="Thôn 3, Xã Hoàn Lão",
        documents=DOCUMENTS,
        postage=15000,
        fees_collected=8000,
    )


def test_bcci_intake_creates_a_registered_dossier_without_a_due_date(intake_item):
    dossier = intake_item.dossier
    assert dossier.intake_channel == IntakeChannel.BCCI
    assert dossier.status == Status.REGISTERED
    assert dossier.received_at is None and dossier.due_date is None
    assert dossier.documents.count() == 2
    assert (intake_item.status, intake_item.direction) == (S.ACCEPTED, "intake")
    assert intake_item.code.startswith("RB")


def test_signing_the_handover_to_the_desk_is_the_legal_submission_time(
    intake_item, postal_staff, official, commune, post_office
):
    handover = new_handover(postal_staff, D.POST_TO_DESK, commune, post_office)
    services.add_item_to_handover(handover=handover, by=postal_staff, code=intake_item.code)
    services.sign_handover(handover=handover, by=postal_staff, at=at("2026-03-04", 16, 0))
    signed = at("2026-03-05", 9, 30)  # the desk confirms with its own login the next morning
    services.sign_handover(handover=handover, by=official, at=signed)
    dossier = intake_item.dossier
    dossier.refresh_from_db()
    assert dossier.status == Status.ACCEPTED
    assert dossier.received_at == signed
    assert dossier.due_date == workdays.due_date(signed, 3)
    intake_item.refresh_from_db()
    assert intake_item.status == S.DELIVERED
    assert intake_item.recipient_name == official.full_name


def test_intake_with_a_negative_fee_saves_nothing(postal_staff, commune, procedure):
    from dossiers.models import Dossier

    with pytest.raises(ValidationError, match="không được nhỏ hơn 0"):
        services.receive_bcci_dossier(
            by=postal_staff,
            receiving_unit=commune,
            procedure=procedure,
            applicant_name="Hoàng Thị Cúc",
            documents=DOCUMENTS,
            fees_collected=-1,
        )
    assert not Dossier.objects.exists() and not PostalItem.objects.exists()


def test_intake_for_a_commune_the_office_does_not_serve_is_refused(postal_staff, other_commune, procedure):
    with pytest.raises(ValidationError, match="không phục vụ"):
        services.receive_bcci_dossier(
            by=postal_staff,
            receiving_unit=other_commune,
            procedure=procedure,
            applicant_name="Hoàng Thị Cúc",
            documents=DOCUMENTS,
        )


# --- pickup appointments --------------------------------------------------------------------


def book(by, commune, procedure, office, staff=None, start=("2026-03-05", 8)):
    return services.book_appointment(
        by=by,
        citizen_name="Trương Văn Đức",
        citizen_phone="0987654321",
        address="Thôn 2, Xã Hoàn Lão",
        commune=commune,
        procedure=procedure,
        post_office=office,
        slot_start=at(start[0], start[1]),
        slot_end=at(start[0], start[1] + 1),
        assigned_to=staff,
    )


def test_a_done_appointment_becomes_a_bcci_intake(official, postal_staff, commune, procedure, post_office):
    appointment = book(official, commune, procedure, post_office, staff=postal_staff)
    item = services.receive_bcci_dossier(
        by=postal_staff,
        receiving_unit=commune,
        procedure=procedure,
        applicant_name=appointment.citizen_name,
        applicant_phone=appointment.citizen_phone,
        applicant_address=appointment.address,
        documents=DOCUMENTS,
        appointment=appointment,
    )
    appointment.refresh_from_db()
    assert appointment.status == PickupAppointment.Status.DONE
    assert appointment.dossier == item.dossier


def test_a_missed_appointment_is_marked_and_stays_closed(postal_staff, commune, procedure, post_office):
    appointment = book(postal_staff, commune, procedure, post_office)
    services.mark_appointment(
        appointment=appointment, by=postal_staff, status=PickupAppointment.Status.MISSED
    )
    with pytest.raises(ValidationError, match="đã kết thúc"):
        services.mark_appointment(
            appointment=appointment, by=postal_staff, status=PickupAppointment.Status.MISSED
        )


def test_appointment_with_slot_backwards_or_foreign_staff_is_refused(
    official, commune, procedure, post_office, other_postal_staff
):
    with pytest.raises(ValidationError, match="sau giờ bắt đầu"):
        services.book_appointment(
            by=official,
            citizen_name="A",
            citizen_phone="0987654321",
            address="Thôn 2",
            commune=commune,
            procedure=procedure,
            post_office=post_office,
            slot_start=at("2026-03-05", 10),
            slot_end=at("2026-03-05", 9),
        )
    with pytest.raises(ValidationError, match="bưu cục khác"):
        book(official, commune, procedure, post_office, staff=other_postal_staff)
    assert not PickupAppointment.objects.exists()
