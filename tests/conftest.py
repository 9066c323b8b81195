"""Shared fixtures: a small province with a district grouping, two communes, their post
offices, and one user per role (plus a second commune's official), in the healthchecks manner:
the owner, a user of another unit, a user of another role."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from accounts.models import Role, User
from communes.models import AdministrativeUnit, PostOffice

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Mat-khau-thu-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashers cost ~0.3 s a user by design; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_message_templates():
    """Message templates are cached per process; a test's rolled-back rows must not outlive it."""
    from notify.services import forget_templates

    forget_templates()
    yield
    forget_templates()


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language: a request that switches to English (the
    language switch test) leaves it active in the thread, and services' messages would follow."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


Level = AdministrativeUnit.Level


@pytest.fixture
def province(db):
    return AdministrativeUnit.objects.create(
        code="44", name="Quảng Trị", level=Level.PROVINCE, kind=AdministrativeUnit.Kind.PROVINCE
    )


@pytest.fixture
def district(province):
    return AdministrativeUnit.objects.create(
        code="D44-BT",
        name="Huyện Bố Trạch (cũ)",
        level=Level.DISTRICT,
        kind=AdministrativeUnit.Kind.DISTRICT,
        parent=province,
        identifier="000.00.16.H44",
    )


@pytest.fixture
def commune(district):
    return AdministrativeUnit.objects.create(
        code="19111",
        name="Xã Hoàn Lão",
        level=Level.COMMUNE,
        kind=AdministrativeUnit.Kind.COMMUNE,
        parent=district,
        identifier="000.01.16.H44",
    )


@pytest.fixture
def other_commune(district):
    return AdministrativeUnit.objects.create(
        code="19141",
        name="Xã Bố Trạch",
        level=Level.COMMUNE,
        kind=AdministrativeUnit.Kind.COMMUNE,
        parent=district,
        identifier="000.02.16.H44",
    )


@pytest.fixture
def far_commune(province):
    """A commune of the province outside the district grouping."""
    return AdministrativeUnit.objects.create(
        code="19333",
        name="Phường Đông Hà",
        level=Level.COMMUNE,
        kind=AdministrativeUnit.Kind.WARD,
        parent=province,
    )


@pytest.fixture
def district_post(commune):
    return PostOffice.objects.create(
        code="BD-BT", name="Bưu điện huyện Bố Trạch", kind=PostOffice.Kind.DISTRICT_POST, commune=commune
    )


@pytest.fixture
def post_office(commune, district_post):
    return PostOffice.objects.create(
        code="BDVHX-19111",
        name="Bưu điện văn hóa xã Hoàn Lão",
        kind=PostOffice.Kind.CULTURAL,
        commune=commune,
        parent=district_post,
    )


@pytest.fixture
def other_post_office(other_commune, district_post):
    return PostOffice.objects.create(
        code="BDVHX-19141",
        name="Bưu điện văn hóa xã Bố Trạch",
        kind=PostOffice.Kind.CULTURAL,
        commune=other_commune,
        parent=district_post,
    )


def make_user(username: str, role: str, **fields) -> User:
    user = User(username=username, role=role, full_name=fields.pop("full_name", username), **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def desk(commune):
    """The commune with its one-stop desk's address and phone (printed on forms, shown to
    citizens by the lookup)."""
    commune.desk_address = "Số 1 đường Hùng Vương, Xã Hoàn Lão"
    commune.desk_phone = "0232 3862 111"
    commune.save()
    return commune


@pytest.fixture
def official(commune):
    return make_user("canbo", Role.COMMUNE_OFFICIAL, unit=commune, full_name="Trần Thị Mai")


@pytest.fixture
def other_official(other_commune):
    return make_user("canbo2", Role.COMMUNE_OFFICIAL, unit=other_commune, full_name="Lê Văn Hùng")


@pytest.fixture
def postal_staff(post_office):
    return make_user("buudien", Role.POSTAL_STAFF, post_office=post_office, full_name="Phạm Thị Hoa")


@pytest.fixture
def other_postal_staff(other_post_office):
    return make_user("buudien2", Role.POSTAL_STAFF, post_office=other_post_office)


@pytest.fixture
def post_manager(district_post, post_office, other_post_office):
    return make_user("quanlybd", Role.POST_MANAGER, post_office=district_post)


@pytest.fixture
def leader(district):
    return make_user("lanhdao", Role.LEADER, unit=district, full_name="Đỗ Minh Tuấn")


@pytest.fixture
def province_leader(province):
    return make_user("lanhdaotinh", Role.LEADER, unit=province)


@pytest.fixture
def administrator(db):
    return make_user("quantri", Role.ADMINISTRATOR, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client):
    """Log a user in on the test client: ``client_for(official).get(...)``."""

    def login(user):
        client.force_login(user)
        return client

    return login
