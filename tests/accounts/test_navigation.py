"""The navigation bar is grouped by role: at most six entries, the rest in menus."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.navigation import MAX_TOP_ENTRIES, menu_for, navbar_for


@pytest.mark.parametrize(
    "username", ["official", "postal_staff", "post_manager", "leader", "province_leader", "administrator"]
)
def test_every_role_has_at_most_six_entries_and_reaches_every_page(request, username):
    user = request.getfixturevalue(username)
    bar = navbar_for(user)
    assert 1 <= len(bar) <= MAX_TOP_ENTRIES == 6
    reachable = {entry["url_name"] for entry in bar if "children" not in entry}
    reachable |= {child["url_name"] for entry in bar for child in entry.get("children", [])}
    assert reachable == {item["url_name"] for item in menu_for(user)}
    # A menu holds two or more pages; a group of one is a plain link.
    assert all(len(entry["children"]) >= 2 for entry in bar if "children" in entry)


def test_daily_jobs_stand_on_their_own(official, postal_staff):
    assert "dossiers:create" in {entry.get("url_name") for entry in navbar_for(official)}
    postal_top = {entry.get("url_name") for entry in navbar_for(postal_staff)}
    assert {"postal:scan", "postal:deliveries"} <= postal_top


def test_bar_renders_menus_and_marks_the_current_page(client_for, official):
    html = client_for(official).get(reverse("dossiers:list")).text
    nav = html.split('data-testid="main-nav"', 1)[1].split("</ul>\n      <form", 1)[0]
    assert nav.count('class="nav-item dropdown"') >= 2
    assert 'aria-current="page"' in nav
