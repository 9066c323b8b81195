"""Load without loss: 20 concurrent clients scan items and move them on against gunicorn
(2 workers) for 20 s. No 5xx, and afterwards one item event per successful status request."""

from __future__ import annotations

import pytest

from bench import loadgen
from postal.models import ItemEvent, ItemStatus, PostalItem
from tests.services.live import env_for, require_postgres, session_cookies
from tests.services.private import Gunicorn, PrivateRedis

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

CLIENTS = 20
SECONDS = 20
ITEMS = 30  # fewer items than clients: moves on the same item race and must queue, not clash


@pytest.fixture
def items(make_dossier, post_office, postal_staff):
    from postal.s10 import make_code

    dossier = make_dossier()
    return PostalItem.objects.bulk_create(
        PostalItem(code=make_code("EB", 10_000_000 + n), dossier=dossier, direction="return",
                   post_office=post_office, status=ItemStatus.ACCEPTED, created_by=postal_staff)
        for n in range(ITEMS)
    )  # fmt: skip


def test_scans_and_moves_under_load_lose_nothing(items, postal_staff):
    require_postgres()
    cookies = [session_cookies(postal_staff) for _ in range(CLIENTS)]
    posts = {"ok": 0}
    # A broker of its own: work the requests queue goes there (no worker needed), instead of
    # running eagerly inside the web requests as it would without a broker.
    redis = PrivateRedis()
    redis.start()
    web = Gunicorn(env_for(redis.url()), workers=2)
    try:

        def step(session, n):
            client, i = divmod(n, 1_000_000)
            if not session.cookies:
                session.cookies.update(cookies[client])
            item = items[(client * 7 + i // 2) % ITEMS]
            if i % 2 == 0:
                return "GET", f"/postal/scan/?code={item.code}", None
            return "POST", f"/postal/items/{item.pk}/move/", {"to_status": ItemStatus.OUT_FOR_DELIVERY}

        result = loadgen.run(web.url, clients=CLIENTS, step=step, duration=SECONDS)
    finally:
        web.stop()
        redis.stop()
    summary = result.summary()
    print("load:", summary)
    assert result.errors == 0, summary
    assert set(result.statuses) <= {200, 302}, summary
    # Every POST answered 302 and every GET 200; the POSTs are the redirects.
    posts["ok"] = result.statuses[302]
    assert posts["ok"] > CLIENTS * 5, summary
    assert ItemEvent.objects.count() == posts["ok"]
    moved = ItemEvent.objects.exclude(from_status=ItemStatus.OUT_FOR_DELIVERY).count()
    assert moved == PostalItem.objects.filter(status=ItemStatus.OUT_FOR_DELIVERY).count()
