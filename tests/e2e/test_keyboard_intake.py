"""Journey 3: a commune official logs a dossier with the keyboard alone — no mouse — finding
the procedure by typing part of its name without diacritics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dossiers.catalogue import load_catalogue
from dossiers.models import Dossier, ReturnChannel
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(transactional_db):
    load_catalogue()


def focused(page) -> dict:
    return page.evaluate(
        "(() => { const e = document.activeElement;"
        " return {id: e.id, tag: e.tagName, text: (e.innerText || '').trim(), name: e.name || ''}; })()"
    )


def tab_to(page, *, element_id: str = "", text: str = "", limit: int = 60) -> None:
    """Press Tab until the element is focused, as a keyboard user does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if (element_id and now["id"] == element_id) or (text and text in now["text"]):
            return
    raise AssertionError(f"never reached {element_id or text} with Tab")


def test_official_logs_a_dossier_with_the_keyboard_only(page, official, catalogue):
    page.goto("/login/")
    page.keyboard.type("")  # the username field has the focus
    assert focused(page)["name"] == "username"
    page.keyboard.type(official.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # From the home page to the intake form through the navigation bar.
    tab_to(page, text="Tiếp nhận hồ sơ mới")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Tiếp nhận hồ sơ mới")).to_be_visible()

    # The procedure picker: type part of the name without diacritics, Enter picks it.
    assert focused(page)["id"] == "procedure-search"
    page.keyboard.type("tinh trang hon nhan")
    expect(page.locator("#procedure-search-help")).to_contain_text("1")
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "id_procedure"
    expect(page.locator("#id_procedure option:checked")).to_contain_text("tình trạng hôn nhân")
    # The procedure's documents arrive, each input labelled for screen readers.
    first_document = page.locator("#document-rows input[name$='-name']").first
    expect(first_document).to_have_value(re.compile("tình trạng hôn nhân"))
    expect(first_document).to_have_attribute("aria-label", "Tên giấy tờ, dòng 1")

    tab_to(page, element_id="id_applicant_name")
    page.keyboard.type("Phan Thị Hồng")
    page.keyboard.press("Tab")
    page.keyboard.type("0905123456")
    page.keyboard.press("Tab")
    page.keyboard.type("044195001122")
    page.keyboard.press("Tab")
    page.keyboard.type("Thôn Tây, Xã Hoàn Lão")
    # Return by post (the default): nothing to choose; add a document row with the keyboard.
    tab_to(page, text="Thêm giấy tờ")
    page.keyboard.press("Enter")
    assert focused(page)["name"].endswith("-name")  # the new row's name field
    page.keyboard.type("Giấy ủy quyền")
    tab_to(page, text="Lưu hồ sơ")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    code = page.get_by_test_id("dossier-code").inner_text()
    dossier = Dossier.objects.get(code=code)
    assert "tình trạng hôn nhân" in dossier.procedure.name
    assert dossier.applicant_name == "Phan Thị Hồng" and dossier.return_channel == ReturnChannel.BCCI
    assert "Giấy ủy quyền" in set(dossier.documents.values_list("name", flat=True))
    assert dossier.documents.count() >= 2
