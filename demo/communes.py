"""Demo units, post offices and the network improvement plan: one district grouping of Quảng Trị,
as in the seed story.

The network is plausible rather than real: most communes have a BĐVHX, some need repair or have
no premises, two have none (gaps: Thượng Trạch in the mountains, Tân Gianh served only by a postal
agent), a few are combined with the commune one-stop desk, and the plan has actions in every
status, overdue ones included. Everything is created once: a second run changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from communes.models import AdministrativeUnit, NetworkAction, NetworkActionEvent, PostOffice, PostOfficeEvent
from communes.services import define_district, load_official_units

PROVINCE_CODE = "44"  # Tỉnh Quảng Trị
DISTRICT_CODE = "D44-BOTRACH"
DISTRICT_NAME = "Huyện Bố Trạch (cũ)"
# The communes formed on 1 July 2025 from the former Bố Trạch district.
COMMUNE_CODES = [
    "19111",  # Xã Hoàn Lão (the district's seat)
    "19141",  # Xã Bố Trạch
    "19126",  # Xã Bắc Trạch
    "19159",  # Xã Đông Trạch
    "19198",  # Xã Nam Trạch
    "19165",  # Xã Phong Nha
    "19147",  # Xã Thượng Trạch
    "19021",  # Xã Phú Trạch
    "19030",  # Xã Trung Thuần
    "19033",  # Xã Hòa Trạch
    "19051",  # Xã Tân Gianh
]
DISTRICT_POST_CODE = "BD-BOTRACH"
# Communes without a BĐVHX in the demo (the gaps the plan works on). Every other commune has
# one, coded BDVHX-<commune code>.
GAP_COMMUNE_CODES = ["19147", "19051"]
CULTURAL_OFFICE_CODES = [f"BDVHX-{code}" for code in COMMUNE_CODES if code not in GAP_COMMUNE_CODES]

Condition = PostOffice.Condition
Premises = PostOffice.Premises
WEEKDAY_HOURS = "07:30–11:30, 13:30–17:00, thứ Hai – thứ Sáu"

# commune code: how its BĐVHX stands (coordinates around lat 17.5, long 106.4; None = not surveyed)
BDVHX = {
    "19111": {"coords": ("17.590100", "106.531200"), "condition": Condition.GOOD, "combined": True,
              "area": 60, "staff": 2, "address": "Tiểu khu 5, xã Hoàn Lão"},
    "19141": {"coords": ("17.546300", "106.455800"), "condition": Condition.NEEDS_REPAIR, "area": 36,
              "address": "Thôn Đại Phong, xã Bố Trạch"},
    "19126": {"coords": ("17.664500", "106.479900"), "condition": Condition.GOOD, "combined": True,
              "area": 54, "staff": 2, "address": "Thôn Thanh Bình, xã Bắc Trạch"},
    "19159": {"coords": ("17.621800", "106.562400"), "condition": Condition.DEGRADED, "area": 28,
              "address": "Thôn Đông Dương, xã Đông Trạch"},
    "19198": {"coords": ("17.498700", "106.584300"), "condition": Condition.NEEDS_REPAIR, "area": 32,
              "address": "Thôn Nam Lý, xã Nam Trạch"},
    "19165": {"coords": ("17.605600", "106.303900"), "condition": Condition.GOOD, "combined": True,
              "area": 75, "staff": 2, "online": True, "address": "Thôn Xuân Tiến, xã Phong Nha"},
    "19021": {"coords": ("17.713400", "106.452100"), "condition": Condition.DEGRADED,
              "premises": Premises.NONE, "status": PostOffice.Status.SUSPENDED, "area": None, "staff": 0,
              "address": "Thôn Phú Hữu, xã Phú Trạch"},
    "19030": {"coords": ("17.734200", "106.428700"), "condition": Condition.GOOD, "area": 42,
              "premises": Premises.RENTED, "address": "Thôn Trung Thuần, xã Trung Thuần"},
    "19033": {"coords": None, "condition": Condition.NEEDS_REPAIR, "area": 30,
              "address": "Thôn Hòa Bình, xã Hòa Trạch"},
}  # fmt: skip

# (kind, commune, office code or None, responsible, due in days from today, status, notes,
#  days ago it was recorded, days ago it was completed)
Kind = NetworkAction.Kind
Status = NetworkAction.Status
POST, COMMUNE = NetworkAction.Responsible.POST, NetworkAction.Responsible.COMMUNE
ACTIONS = [
    (Kind.REPAIR, "19141", "BDVHX-19141", POST, 20, Status.IN_PROGRESS,
     "Mái tôn dột, thay mái và sơn lại tường.", 30, None),
    (Kind.REFURBISH, "19159", "BDVHX-19159", POST, -15, Status.PLANNED,
     "Cải tạo quầy giao dịch, bổ sung bàn ghế cho người dân chờ.", 60, None),
    (Kind.REPAIR, "19198", "BDVHX-19198", POST, 45, Status.PLANNED,
     "Sửa cửa và hệ thống điện.", 10, None),
    (Kind.REPAIR, "19033", "BDVHX-19033", POST, -5, Status.IN_PROGRESS,
     "Chống thấm, sửa nền nhà.", 50, None),
    (Kind.ENLARGE, "19165", "BDVHX-19165", POST, -20, Status.DONE,
     "Mở rộng thêm 20 m² để đặt quầy một cửa kết hợp.", 90, 25),
    (Kind.FIND_PREMISES, "19021", "BDVHX-19021", COMMUNE, 30, Status.PLANNED,
     "UBND xã bố trí mặt bằng tại nhà văn hóa thôn Phú Hữu.", 20, None),
    (Kind.ASSIGN_STAFF, "19021", "BDVHX-19021", POST, -40, Status.CANCELLED,
     "Chưa có mặt bằng nên chưa bố trí nhân viên.", 70, None),
    (Kind.FIND_PREMISES, "19147", None, COMMUNE, -30, Status.IN_PROGRESS,
     "Tìm mặt bằng gần trụ sở UBND xã để mở điểm BĐVHX.", 80, None),
    (Kind.OPEN_POINT, "19051", None, POST, 60, Status.PLANNED,
     "Nâng cấp đại lý bưu điện thành điểm BĐVHX.", 15, None),
    (Kind.ASSIGN_STAFF, "19030", "BDVHX-19030", POST, -10, Status.DONE,
     "Bố trí nhân viên bưu điện hỗ trợ tiếp nhận hồ sơ tư pháp, đất đai.", 45, 12),
]  # fmt: skip


def seed(*, options, stdout) -> None:
    if not AdministrativeUnit.objects.filter(code=PROVINCE_CODE).exists():
        load_official_units()
    district = define_district(
        code=DISTRICT_CODE,
        name=DISTRICT_NAME,
        province_code=PROVINCE_CODE,
        commune_codes=COMMUNE_CODES,
        identifier="000.00.16.H44",
    )
    communes = {c.code: c for c in AdministrativeUnit.objects.filter(code__in=COMMUNE_CODES)}
    for index, code in enumerate(COMMUNE_CODES, start=1):
        commune = communes[code]
        if not commune.identifier:
            commune.identifier = f"000.{index:02d}.16.H44"
            commune.save(update_fields=["identifier"])
    offices = _seed_offices(communes)
    created = _seed_actions(communes, offices)
    stdout.write(
        f"Demo units: {district.name} with {len(COMMUNE_CODES)} communes, {len(offices)} post offices "
        f"({len(GAP_COMMUNE_CODES)} communes without a BĐVHX); {created} network actions created."
    )


@transaction.atomic
def _seed_offices(communes: dict[str, AdministrativeUnit]) -> dict[str, PostOffice]:
    seat = communes[COMMUNE_CODES[0]]
    created = []
    district_post, is_new = PostOffice.objects.get_or_create(
        code=DISTRICT_POST_CODE,
        defaults={
            "name": "Bưu điện huyện Bố Trạch",
            "kind": PostOffice.Kind.DISTRICT_POST,
            "commune": seat,
            "address": "Tiểu khu 3, Xã Hoàn Lão, Quảng Trị",
            "latitude": Decimal("17.593500"),
            "longitude": Decimal("106.533500"),
            "staff_count": 18,
            "premises": Premises.OWNED,
            "floor_area_m2": 320,
            "offers_online_assistance": True,
            "offers_digitisation": True,
            "opening_hours": "07:00–17:30, thứ Hai – thứ Bảy",
        },
    )
    created += [district_post] if is_new else []
    offices = {district_post.code: district_post}
    for code, spec in BDVHX.items():
        commune = communes[code]
        latitude, longitude = (Decimal(v) for v in spec["coords"]) if spec["coords"] else (None, None)
        office, is_new = PostOffice.objects.get_or_create(
            code=f"BDVHX-{code}",
            defaults={
                "name": f"Bưu điện văn hóa {commune.name.replace('Xã', 'xã')}",
                "kind": PostOffice.Kind.CULTURAL,
                "commune": commune,
                "parent": district_post,
                "address": spec["address"],
                "latitude": latitude,
                "longitude": longitude,
                "status": spec.get("status", PostOffice.Status.OPERATING),
                "premises": spec.get("premises", Premises.LENT),
                "floor_area_m2": spec["area"],
                "condition": spec["condition"],
                "staff_count": spec.get("staff", 1),
                "combined_with_desk": spec.get("combined", False),
                "offers_online_assistance": spec.get("online", spec.get("combined", False)),
                "opening_hours": WEEKDAY_HOURS,
            },
        )
        offices[office.code] = office
        created += [office] if is_new else []
    agent, is_new = PostOffice.objects.get_or_create(
        code="DL-19051",
        defaults={
            "name": "Đại lý bưu điện Tân Gianh",
            "kind": PostOffice.Kind.AGENT,
            "commune": communes["19051"],
            "parent": district_post,
            "address": "Thôn Minh Hóa, xã Tân Gianh",
            "latitude": Decimal("17.690200"),
            "longitude": Decimal("106.405600"),
            "premises": Premises.RENTED,
            "floor_area_m2": 18,
            "staff_count": 1,
            "offers_bcci_intake": False,
            "opening_hours": "07:00–18:00 hằng ngày",
        },
    )
    offices[agent.code] = agent
    created += [agent] if is_new else []
    PostOfficeEvent.objects.bulk_create(
        PostOfficeEvent(
            post_office=office,
            action="post_office.created",
            to_status=office.status,
            details={"source": "demo"},
        )
        for office in created
    )
    return offices


@transaction.atomic
def _seed_actions(communes: dict[str, AdministrativeUnit], offices: dict[str, PostOffice]) -> int:
    """Each demo action once, with a backdated history as if recorded over the past weeks."""
    today = timezone.localdate()
    now = timezone.now()
    created = 0
    for kind, commune_code, office_code, responsible, due_in, status, notes, age, done_ago in ACTIONS:
        commune, office = communes[commune_code], offices.get(office_code)
        if NetworkAction.objects.filter(kind=kind, commune=commune, post_office=office).exists():
            continue
        recorded_at = now - timedelta(days=age)
        action = NetworkAction.objects.create(
            kind=kind,
            commune=commune,
            post_office=office,
            responsible=responsible,
            due_date=today + timedelta(days=due_in),
            status=status,
            completed_on=today - timedelta(days=done_ago) if status == Status.DONE else None,
            notes=notes,
            created_at=recorded_at,
        )
        history = [(recorded_at, "created", "", Status.PLANNED, {"kind": kind, "commune": commune_code})]
        if status in (Status.IN_PROGRESS, Status.DONE):
            history.append(
                (recorded_at + timedelta(days=3), "started", Status.PLANNED, Status.IN_PROGRESS, {})
            )
        if status == Status.DONE:
            history.append(
                (
                    now - timedelta(days=done_ago),
                    "done",
                    Status.IN_PROGRESS,
                    Status.DONE,
                    {"completed_on": action.completed_on.isoformat()},
                )
            )
        if status == Status.CANCELLED:
            history.append(
                (
                    recorded_at + timedelta(days=7),
                    "cancelled",
                    Status.PLANNED,
                    Status.CANCELLED,
                    {"reason": notes},
                )
            )
        NetworkActionEvent.objects.bulk_create(
            NetworkActionEvent(
                network_action=action,
                at=at,
                action=f"network_action.{verb}",
                from_status=from_status,
                to_status=to_status,
                details=details,
            )
            for at, verb, from_status, to_status, details in history
        )
        created += 1
    return created
