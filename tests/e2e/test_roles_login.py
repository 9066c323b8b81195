"""Each demo role logs in through the browser and lands on its home page, in Vietnamese."""

import pytest
from django.core.management import call_command

from demo.accounts import DEMO_PASSWORD
from tests.e2e.conftest import log_in, log_out

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROLE_HOMES = [
    ("quantri", "Quản trị hệ thống"),
    ("canbo", "Cán bộ một cửa"),
    ("buudien", "Nhân viên bưu điện"),
    ("quanlybd", "Quản lý bưu điện"),
    ("lanhdao", "Lãnh đạo"),
]


@pytest.fixture
def demo(transactional_db):
    from io import StringIO

    call_command("seed_demo", "--dossiers", "0", stdout=StringIO())


def test_every_demo_role_logs_in_and_sees_its_home(page, demo):
    for username, role_label in ROLE_HOMES:
        log_in(page, username, DEMO_PASSWORD)
        home = page.get_by_test_id("role-home")
        home.wait_for()
        assert role_label in home.inner_text()
        assert page.locator("html").get_attribute("lang") == "vi"
        log_out(page)


def test_wrong_password_in_the_browser(page, demo):
    log_in(page, "canbo", "khong-dung")
    assert page.get_by_text("Sai tên đăng nhập hoặc mật khẩu").is_visible()
