"""Demo users, one or more per role, with printed logins."""

from __future__ import annotations

from accounts.models import Role, User
from communes.models import AdministrativeUnit, PostOffice
from demo.communes import COMMUNE_CODES, DISTRICT_CODE, DISTRICT_POST_CODE, PROVINCE_CODE

DEMO_PASSWORD = "PostDesk@2026"


def demo_users() -> list[dict]:
    units = {
        u.code: u
        for u in AdministrativeUnit.objects.filter(
            code__in=[PROVINCE_CODE, DISTRICT_CODE, *COMMUNE_CODES[:2]]
        )
    }
    offices = {
        o.code: o
        for o in PostOffice.objects.filter(code__in=[DISTRICT_POST_CODE, f"BDVHX-{COMMUNE_CODES[0]}"])
    }
    first, second = COMMUNE_CODES[0], COMMUNE_CODES[1]
    return [
        {
            "username": "quantri",
            "full_name": "Nguyễn Văn Quản",
            "role": Role.ADMINISTRATOR,
            "is_staff": True,
            "is_superuser": True,
        },
        {
            "username": "canbo",
            "full_name": "Trần Thị Mai",
            "role": Role.COMMUNE_OFFICIAL,
            "unit": units[first],
        },
        {
            "username": "canbo2",
            "full_name": "Lê Văn Hùng",
            "role": Role.COMMUNE_OFFICIAL,
            "unit": units[second],
        },
        {
            "username": "buudien",
            "full_name": "Phạm Thị Hoa",
            "role": Role.POSTAL_STAFF,
            "post_office": offices[f"BDVHX-{first}"],
        },
        {
            "username": "quanlybd",
            "full_name": "Hoàng Văn Nam",
            "role": Role.POST_MANAGER,
            "post_office": offices[DISTRICT_POST_CODE],
            "unit": units[DISTRICT_CODE],
        },
        {
            "username": "lanhdao",
            "full_name": "Đỗ Minh Tuấn",
            "role": Role.LEADER,
            "unit": units[DISTRICT_CODE],
        },
        {
            "username": "lanhdaotinh",
            "full_name": "Võ Thị Lan",
            "role": Role.LEADER,
            "unit": units[PROVINCE_CODE],
        },
    ]


def seed(*, options, stdout) -> None:
    for spec in demo_users():
        spec = dict(spec)
        username = spec.pop("username")
        user, created = User.objects.update_or_create(username=username, defaults=spec)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for spec in demo_users():
        where = spec.get("unit") or spec.get("post_office") or "—"
        stdout.write(f"  {spec['username']:<12} {Role(spec['role']).label:<18} {where}")
