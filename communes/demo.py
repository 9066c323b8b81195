"""Demo units and post offices: one district grouping of Quảng Trị, as in the seed story."""

from __future__ import annotations

from communes.models import AdministrativeUnit, PostOffice
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
    seat = communes[COMMUNE_CODES[0]]
    district_post, _ = PostOffice.objects.get_or_create(
        code=DISTRICT_POST_CODE,
        defaults={
            "name": "Bưu điện huyện Bố Trạch",
            "kind": PostOffice.Kind.DISTRICT_POST,
            "commune": seat,
            "address": "Tiểu khu 3, Xã Hoàn Lão, Quảng Trị",
            "staff_count": 18,
            "premises": PostOffice.Premises.OWNED,
            "floor_area_m2": 320,
            "offers_online_assistance": True,
            "offers_digitisation": True,
            "opening_hours": "07:00–17:30, thứ Hai – thứ Bảy",
        },
    )
    for code in COMMUNE_CODES:
        commune = communes[code]
        PostOffice.objects.get_or_create(
            code=f"BDVHX-{code}",
            defaults={
                "name": f"Bưu điện văn hóa {commune.name}",
                "kind": PostOffice.Kind.CULTURAL,
                "commune": commune,
                "parent": district_post,
                "staff_count": 1,
                "premises": PostOffice.Premises.LENT,
                "floor_area_m2": 40,
                "opening_hours": "07:30–11:30, 13:30–17:00, thứ Hai – thứ Sáu",
            },
        )
    stdout.write(f"Demo units: {district.name} with {len(COMMUNE_CODES)} communes and their post offices.")
