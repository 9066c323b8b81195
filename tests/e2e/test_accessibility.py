"""Accessibility of every role's main pages, checked with axe-core (axe-playwright-python):
no critical or serious violation of WCAG 2.1 A/AA, on a desk screen (1366 px) and, for the
postal staff's screens, on a phone (390 px). Also: the bar is one line at 1366 px, and
keyboard focus is visible."""

from __future__ import annotations

from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from accounts.navigation import menu_for
from dossiers.models import Dossier
from postal.models import Handover, PostalItem

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "PostDesk@2026"
OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
AXE = Axe()


@pytest.fixture
def demo(transactional_db):
    call_command("load_units", stdout=StringIO())
    call_command("seed_demo", dossiers=300, stdout=StringIO())


def serious_violations(page) -> list[str]:
    results = AXE.run(page, options=OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("critical", "serious"):
            targets = [node["target"] for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def main_pages(username: str) -> list[str]:
    user = User.objects.get(username=username)
    urls = [reverse("accounts:home"), *(item["url"] for item in menu_for(user))]
    dossier = Dossier.objects.filter(postal_items__isnull=False).order_by("-id").first()
    if username != "quantri":
        urls.append(reverse("dossiers:detail", args=[dossier.pk]))
    return urls


def check(page, urls) -> dict[str, list[str]]:
    problems = {}
    for url in urls:
        response = page.goto(url)
        if response.status in (403, 404):
            continue
        assert response.ok, url
        found = serious_violations(page)
        if found:
            problems[url] = found
    return problems


@pytest.mark.parametrize("username", ["canbo", "buudien", "quanlybd", "lanhdao", "quantri"])
def test_main_pages_of_every_role_have_no_serious_violation(demo, page, username):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, username, DEMO_PASSWORD)
    # One line of navigation on a desk screen.
    assert page.locator("nav.navbar").bounding_box()["height"] < 70
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    problems = check(page, main_pages(username))
    assert not problems, "\n".join(f"{url}: {found}" for url, found in problems.items())


def test_postal_screens_on_a_phone_have_no_serious_violation(demo, phone_page):
    page = phone_page
    log_in(page, "buudien", DEMO_PASSWORD)
    item = PostalItem.objects.filter(post_office__code="BDVHX-19111").order_by("-id").first()
    handover = Handover.objects.order_by("-id").first()
    urls = [
        reverse("accounts:home"),
        reverse("postal:scan"),
        reverse("postal:deliveries"),
        reverse("postal:intake_create"),
        reverse("postal:handover_list"),
        reverse("postal:appointment_list"),
        reverse("dossiers:list"),
    ]
    if item:
        urls.append(reverse("postal:item_detail", args=[item.pk]))
    if handover:
        urls.append(reverse("postal:handover_detail", args=[handover.pk]))
    assert check(page, urls) == {}
    page.goto(reverse("dossiers:list"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_keyboard_focus_is_visible(demo, page):
    log_in(page, "canbo", DEMO_PASSWORD)
    page.goto(reverse("dossiers:list"))
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()"
        )
        assert outline[0] != "none" and outline[1] >= 2, outline
