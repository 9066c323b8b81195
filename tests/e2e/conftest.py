"""Playwright against the system Chromium (no browser downloads on this machine or CI)."""

from __future__ import annotations

import os
import shutil

import pytest

pytestmark = pytest.mark.e2e


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Browser tests need Chromium: install Debian's 'chromium' package or set CHROMIUM_PATH.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page (postal staff on the street)."""
    context = browser.new_context(
        locale="vi-VN",
        timezone_id="Asia/Ho_Chi_Minh",
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_out(page) -> None:
    """Log out through the menu (opened first on a phone) and wait for the login page."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        # Wait for the collapse animation to finish before reaching into the menu.
        page.locator("#main-nav.show:not(.collapsing)").wait_for()
    page.get_by_test_id("current-user").click()
    with page.expect_navigation(url="**/login/**"):
        page.get_by_role("button", name="Đăng xuất").click()
    page.get_by_role("heading", name="Đăng nhập vào PostDesk").wait_for()


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


# A procedure of the demo catalogue, as the intake's picker names it.
PROCEDURE = "Hộ tịch · Thủ tục cấp Giấy xác nhận tình trạng hôn nhân (1.004873)"


@pytest.fixture
def catalogue(transactional_db):
    from dossiers.catalogue import load_catalogue

    load_catalogue()


def do_step(page, label, **fields):
    """A workflow step from the dossier page: its link, its fields, its button, back on the page."""
    from playwright.sync_api import expect

    page.get_by_role("link", name=label, exact=True).click()
    for field_label, value in fields.items():
        page.get_by_label(field_label).fill(value)
    page.get_by_role("button", name=label, exact=True).click()
    expect(page.get_by_test_id("dossier-code")).to_be_visible()
