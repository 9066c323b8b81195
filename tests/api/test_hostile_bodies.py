"""The API's JSON bodies as an attacker or a broken client sends them: NUL bytes, 100,000
characters, 2^31 and 2^63, years 1 and 9999, impossible dates, right-to-left overrides, the wrong
JSON types, bodies that are not JSON or not UTF-8. Every answer is a problem detail below 500 and
nothing is written. (The every-URL test of tests/trust/test_hostile_inputs.py covers the pages;
it sends form bodies with a session, which the API refuses before reading them.)"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client

from tests.api.conftest import row
from tests.api.test_tracking import item  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "a\x00b",
    "x" * 100_000,
    2**31,
    2**63,
    -(2**63) - 1,
    -1,
    1e308,
    "0001-01-01T00:00:00+07:00",
    "9999-12-31T23:59:59+07:00",
    "31/12/9999 23:59",
    "2026-02-30T10:00:00+07:00",
    "٢٠٢٦-٠٣-٠٢",  # Arabic-Indic digits
    "\u202eevil\u202c",
    None,
    [],
    {},
    True,
]


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def assert_no_server_error_and_nothing_written(send) -> None:
    before = counts()
    response = send()
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
        changed = {label for label, n in counts().items() if before[label] != n}
        # Only the records of the request itself may change (an idempotency key, a client's use).
        assert changed <= {"api.IdempotencyRecord", "api.ApiClient"}, changed


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:20])
@pytest.mark.parametrize(
    "field", ["ma_ho_so", "ho_ten_nguoi_nop", "ngay_tiep_nhan", "trang_thai", "so_dien_thoai"]
)
def test_a_hostile_dossier_field_is_refused_cleanly(api_for, commune_system, field, value):
    api = api_for(commune_system[1])
    code = "000.01.16.H44-260302-0007"
    body = row(code, **{field: value})
    assert_no_server_error_and_nothing_written(lambda: api.put(f"/api/v1/dossiers/{code}", body))
    assert_no_server_error_and_nothing_written(
        lambda: api.post("/api/v1/dossiers:batch", {"dossiers": [body]})
    )


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v)[:20])
@pytest.mark.parametrize("field", ["event_id", "type", "at", "reason", "recipient_name"])
def test_a_hostile_tracking_event_is_refused_cleanly(api_for, carrier, item, field, value):  # noqa: F811
    api = api_for(carrier[1])
    event = {"event_id": "ev-1", "type": "in_transit", "at": "2026-03-05T10:00:00+07:00", field: value}
    assert_no_server_error_and_nothing_written(lambda: api.post(f"/api/v1/items/{item.code}/events", event))


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"null", b"[]", b'"text"', b"\xff\xfe\x00", b'{"dossiers": 5}', b'{"dossiers": [1, 2]}'],
    ids=lambda b: repr(b)[:20],
)
def test_bodies_that_are_not_what_the_api_reads(commune_system, carrier, item, body):  # noqa: F811
    for token, method, path in (
        (commune_system[1], "put", "/api/v1/dossiers/000.01.16.H44-260302-0007"),
        (commune_system[1], "post", "/api/v1/dossiers:batch"),
        (carrier[1], "post", f"/api/v1/items/{item.code}/events"),
    ):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert_no_server_error_and_nothing_written(
            lambda client=client, method=method, path=path: getattr(client, method)(
                path, data=body, content_type="application/json"
            )
        )


def test_a_thousand_and_one_dossiers_are_refused_whole(api_for, commune_system):
    api = api_for(commune_system[1])
    rows = [row(f"000.01.16.H44-260302-{n:04d}") for n in range(1, 1002)]
    assert_no_server_error_and_nothing_written(lambda: api.post("/api/v1/dossiers:batch", {"dossiers": rows}))
