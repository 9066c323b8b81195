import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def post_login(client, username, password, address="10.1.1.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_login_page_speaks_vietnamese(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert "Đăng nhập" in response.text
    assert 'lang="vi"' in response.text


def test_wrong_password_shows_a_clear_vietnamese_message(client, official):
    response = post_login(client, "canbo", "sai-mat-khau")
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.text
    assert "_auth_user_id" not in client.session


def test_repeated_failures_lock_the_account_for_that_address(client, official, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "canbo", "sai-mat-khau")
    response = post_login(client, "canbo", PASSWORD)
    assert response.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in response.text
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by someone else's failures.
    response = post_login(client, "canbo", PASSWORD, address="10.9.9.9")
    assert response.status_code == 302


def test_successful_login_lands_on_the_role_home(client, official):
    response = post_login(client, "canbo", PASSWORD)
    assert response.status_code == 302
    home = client.get(response.url)
    assert "Cán bộ một cửa" in home.text
    assert "Xã Hoàn Lão" in home.text


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_logout_needs_post_and_ends_the_session(client_for, official):
    client = client_for(official)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("accounts:home")).status_code == 302


def test_language_switch_to_english(client_for, official):
    client = client_for(official)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Commune official" in client.get("/").text
