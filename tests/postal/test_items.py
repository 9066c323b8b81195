"""Postal items: return items from the desk, scans, delivery attempts and the two-notice rule."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from dossiers.models import DossierEvent, ReturnChannel, Status
from postal import s10, services
from postal.models import DeliveryAttempt, Handover, ItemEvent, ItemStatus, PostalItem
from tests.postal.conftest import at

S = ItemStatus
Outcome = DeliveryAttempt.Outcome


def hand_to_post(item, official, postal_staff, when):
    handover = services.create_handover(
        by=official,
        direction=Handover.Direction.DESK_TO_POST,
        desk_unit=official.unit,
        post_office=item.post_office,
    )
    services.add_item_to_handover(handover=handover, by=official, code=item.code)
    services.sign_handover(handover=handover, by=official, at=when)
    services.sign_handover(handover=handover, by=postal_staff, at=when)
    item.refresh_from_db()
    return item


@pytest.fixture
def return_item(finished_dossier, official, post_office):
    return services.create_return_item(dossier=finished_dossier, by=official)


@pytest.fixture
def accepted_item(return_item, official, postal_staff):
    return hand_to_post(return_item, official, postal_staff, at("2026-03-05", 10))


def test_return_item_gets_a_valid_code_of_the_communes_post_office(
    return_item, post_office, finished_dossier
):
    assert s10.is_valid(return_item.code)
    assert return_item.code.startswith("EB")
    assert return_item.post_office == post_office
    assert return_item.status == S.CREATED
    assert list(return_item.events.values_list("action", flat=True)) == ["item.created"]
    assert finished_dossier.events.filter(action="postal.return_item_created").exists()


def test_codes_issued_by_one_office_never_collide(post_office):
    codes = {services.issue_code(post_office=post_office, service="EB") for _ in range(50)}
    assert len(codes) == 50
    assert all(s10.is_valid(code) for code in codes)


def test_issuing_skips_a_code_already_used(post_office, return_item):
    # Another office's block may wrap onto ours; a used code is skipped, never issued twice.
    number = int(return_item.code[2:10]) % 100_000 + 1
    taken = s10.make_code("EB", s10.office_serial(post_office.pk, number))
    PostalItem.objects.filter(pk=return_item.pk).update(code=taken)
    assert services.issue_code(post_office=post_office, service="EB") != taken


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": Status.PROCESSING}, "Chỉ hồ sơ đã xử lý xong"),
        ({"return_channel": ReturnChannel.DESK}, "không đăng ký nhận"),
    ],
)
def test_return_item_refused_for_a_dossier_not_ready(make_dossier, official, post_office, fields, message):
    dossier = make_dossier(**fields)
    with pytest.raises(ValidationError, match=message):
        services.create_return_item(dossier=dossier, by=official)
    assert not PostalItem.objects.exists()


def test_second_return_item_for_the_same_dossier_is_refused(return_item, official):
    with pytest.raises(ValidationError):
        services.create_return_item(dossier=return_item.dossier, by=official)
    assert PostalItem.objects.count() == 1


def test_fee_below_zero_is_refused_in_vietnamese(finished_dossier, official, post_office, settings):
    settings.LANGUAGE_CODE = "vi"
    from django.utils import translation

    with translation.override("vi"), pytest.raises(ValidationError) as error:
        services.create_return_item(dossier=finished_dossier, by=official, fees_collected=-1000)
    assert "không được nhỏ hơn 0" in error.value.messages[0]
    assert not PostalItem.objects.exists()


def test_handover_sets_j_and_the_target_by_tier(accepted_item):
    assert accepted_item.status == S.ACCEPTED
    assert accepted_item.handover_date == date(2026, 3, 5)  # Thursday
    assert accepted_item.target_date == date(2026, 3, 6)  # J+1: Friday


def test_target_days_are_settable_per_tier(return_item, official, postal_staff, settings):
    settings.POSTAL_TARGET_DAYS = {"local": 3}
    item = hand_to_post(return_item, official, postal_staff, at("2026-03-05", 10))
    assert item.target_date == date(2026, 3, 10)  # Thursday + 3 working days, over the weekend


def test_scanning_out_for_delivery_twice_keeps_both_scans(accepted_item, postal_staff):
    services.scan_item(item=accepted_item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY)
    services.scan_item(item=accepted_item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY)
    accepted_item.refresh_from_db()
    assert accepted_item.status == S.OUT_FOR_DELIVERY
    actions = list(accepted_item.events.values_list("action", flat=True))
    assert actions[-2:] == ["item.out_for_delivery", "item.scanned"]


def test_item_of_another_post_office_cannot_be_scanned(accepted_item, other_postal_staff):
    with pytest.raises(ValidationError, match="bưu cục khác"):
        services.scan_item(item=accepted_item, by=other_postal_staff, to_status=S.OUT_FOR_DELIVERY)
    with pytest.raises(ValidationError, match="Không tìm thấy bưu gửi"):
        services.find_item_for_scan(user=other_postal_staff, code=accepted_item.code)
    accepted_item.refresh_from_db()
    assert accepted_item.status == S.ACCEPTED


def test_wrong_check_digit_is_refused_at_once(postal_staff):
    with pytest.raises(ValidationError, match="Số kiểm tra"):
        services.find_item_for_scan(user=postal_staff, code="EB123456784VN")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"recipient_name": "", "id_checked": True}, "họ tên người nhận"),
        ({"recipient_name": "Nguyễn Văn An", "id_checked": False}, "giấy tờ tùy thân"),
        ({"recipient_name": "Lê Thị Bình", "id_checked": True, "is_proxy": True}, "giấy ủy quyền"),
    ],
)
def test_delivery_without_what_the_rules_require_changes_nothing(
    accepted_item, postal_staff, kwargs, message
):
    with pytest.raises(ValidationError, match=message):
        services.record_delivery_attempt(
            item=accepted_item, by=postal_staff, outcome=Outcome.DELIVERED, at=at("2026-03-06", 9), **kwargs
        )
    accepted_item.refresh_from_db()
    assert (accepted_item.status, accepted_item.attempts) == (S.ACCEPTED, 0)
    assert not DeliveryAttempt.objects.exists()
    assert accepted_item.dossier.status == Status.FINISHED


def test_delivery_returns_the_dossier_by_post(accepted_item, postal_staff):
    when = at("2026-03-06", 9)
    item = services.record_delivery_attempt(
        item=accepted_item,
        by=postal_staff,
        outcome=Outcome.DELIVERED,
        at=when,
        recipient_name="Lê Thị Bình",
        id_checked=True,
        is_proxy=True,
        proxy_authorisation="Giấy ủy quyền số 12/UQ",
    )
    assert item.status == S.DELIVERED
    assert item.delivered_at == when
    assert item.recipient_is_proxy and item.attempts == 1
    dossier = item.dossier
    dossier.refresh_from_db()
    assert dossier.status == Status.RETURNED
    assert dossier.return_channel == ReturnChannel.BCCI
    assert dossier.returned_at == when


def test_an_item_already_delivered_cannot_be_scanned_again(accepted_item, postal_staff):
    services.record_delivery_attempt(
        item=accepted_item,
        by=postal_staff,
        outcome=Outcome.DELIVERED,
        at=at("2026-03-06", 9),
        recipient_name="Nguyễn Văn An",
        id_checked=True,
    )
    events_before = ItemEvent.objects.count()
    with pytest.raises(ValidationError, match="đã được phát"):
        services.record_delivery_attempt(
            item=accepted_item, by=postal_staff, outcome=Outcome.NOT_HOME, at=at("2026-03-06", 10)
        )
    with pytest.raises(ValidationError, match="đã được phát"):
        services.scan_item(item=accepted_item, by=postal_staff, to_status=S.OUT_FOR_DELIVERY)
    assert ItemEvent.objects.count() == events_before


# Two failed notices, the last at least two working days after the first: then a result sent by
# post goes back to the agency.
@pytest.mark.parametrize(
    ("days", "met"),
    [
        ([], False),
        ([date(2026, 3, 2)], False),  # one notice is never enough
        ([date(2026, 3, 2), date(2026, 3, 3)], False),  # Mon, Tue: one working day apart
        ([date(2026, 3, 2), date(2026, 3, 4)], True),  # Mon, Wed
        ([date(2026, 3, 5), date(2026, 3, 9)], True),  # Thu, Mon: Fri and Mon are the two days
        ([date(2026, 3, 6), date(2026, 3, 9)], False),  # Fri, Mon: the weekend does not count
        ([date(2026, 2, 13), date(2026, 2, 23)], False),  # Fri before Tết, first working Monday after
        ([date(2026, 2, 13), date(2026, 2, 24)], True),
    ],
)
def test_two_notice_rule_counts_working_days(db, days, met):  # db: local calendar overrides
    assert services.two_notices_met(days) is met


def test_second_failed_notice_two_working_days_later_returns_the_item(accepted_item, postal_staff):
    first = services.record_delivery_attempt(
        item=accepted_item, by=postal_staff, outcome=Outcome.NOT_HOME, at=at("2026-03-06", 9)
    )
    assert first.status == S.DELIVERY_FAILED
    early = services.record_delivery_attempt(
        item=accepted_item, by=postal_staff, outcome=Outcome.NOT_HOME, at=at("2026-03-09", 9)
    )
    assert early.status == S.DELIVERY_FAILED  # Friday → Monday is one working day
    final = services.record_delivery_attempt(
        item=accepted_item, by=postal_staff, outcome=Outcome.REFUSED, at=at("2026-03-10", 9)
    )
    assert final.status == S.RETURNED_TO_SENDER
    assert final.attempts == 3
    dossier = final.dossier
    dossier.refresh_from_db()
    assert dossier.status == Status.FINISHED  # back in the desk's queue, not returned
    assert DossierEvent.objects.filter(dossier=dossier, action="postal.returned_to_agency").exists()
    actions = list(final.events.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["item.delivery_failed", "item.returned_to_agency"]


def test_target_met_or_missed_is_visible(accepted_item, postal_staff):
    from postal.selectors import target_state

    assert target_state(accepted_item, today=date(2026, 3, 6)) == "pending"
    assert target_state(accepted_item, today=date(2026, 3, 9)) == "missed"
    services.record_delivery_attempt(
        item=accepted_item,
        by=postal_staff,
        outcome=Outcome.DELIVERED,
        at=at("2026-03-06", 16),
        recipient_name="Nguyễn Văn An",
        id_checked=True,
    )
    accepted_item.refresh_from_db()
    assert target_state(accepted_item) == "met"
