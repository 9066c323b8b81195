"""The main pages of every role speak words: no internal event code (``postal.handed_to_post``)
and no ISO date (``2026-03-09``) in what a reader sees, on demo data with every kind of history."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import User
from communes.models import NetworkAction, PostOffice
from dossiers.models import Dossier, DossierEvent
from postal.models import Handover, ItemEvent, PostalItem, TaskTransfer

RAW_CODE = re.compile(
    r"\b(dossier|item|postal|handover|transfer|post_office|network_action|privacy)\.[a-z]+_?[a-z_]*\b"
)
ISO_DATE = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d\b")


def visible_text(html: str) -> str:
    """What a reader sees: no scripts, styles, tags or attribute values."""
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_units", stdout=StringIO())
        call_command("seed_demo", dossiers=600, stdout=StringIO())
        yield
        call_command("flush", interactive=False, verbosity=0)


def _pages_of(username: str) -> list[str]:
    """The role's home, lists and the detail pages with the richest histories."""
    urls = [reverse("accounts:home")]
    user = User.objects.get(username=username)
    from accounts.navigation import menu_for

    urls += [entry["url"] for entry in menu_for(user)]
    for action in DossierEvent.objects.order_by().values_list("action", flat=True).distinct():
        event = DossierEvent.objects.filter(action=action).order_by("-id").first()
        urls.append(reverse("dossiers:detail", args=[event.dossier_id]))
    for action in ItemEvent.objects.order_by().values_list("action", flat=True).distinct():
        event = ItemEvent.objects.filter(action=action).order_by("-id").first()
        urls.append(reverse("postal:item_detail", args=[event.item_id]))
    urls += [reverse("postal:handover_detail", args=[h.pk]) for h in Handover.objects.all()[:3]]
    urls += [reverse("communes:office_detail", args=[o.pk]) for o in PostOffice.objects.all()[:3]]
    urls += [reverse("communes:action_detail", args=[a.pk]) for a in NetworkAction.objects.all()[:10]]
    urls += [reverse("postal:transfer_detail", args=[t.pk]) for t in TaskTransfer.objects.all()[:3]]
    return list(dict.fromkeys(urls))


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["canbo", "buudien", "quanlybd", "lanhdao", "quantri"])
def test_pages_show_no_internal_code_and_no_iso_date(demo, username):
    assert Dossier.objects.exists() and PostalItem.objects.exists()
    client = Client()
    client.force_login(User.objects.get(username=username))
    checked = 0
    for url in _pages_of(username):
        response = client.get(url)
        if response.status_code in (403, 404):  # another commune's record or another role's page
            continue
        assert response.status_code == 200, url
        if "text/html" not in response.get("Content-Type", ""):
            continue
        text = visible_text(response.content.decode())
        assert not RAW_CODE.search(text), (url, RAW_CODE.search(text).group(0))
        assert not ISO_DATE.search(text), (url, ISO_DATE.search(text).group(0))
        checked += 1
    assert checked >= 5
