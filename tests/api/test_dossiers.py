"""PUT/POST/GET of dossiers: the importer's rules, idempotent upserts, all-or-nothing batches,
cursor pages, masking, scopes and problem details."""

from __future__ import annotations

import pytest
import time_machine

from api.models import IdempotencyRecord
from dossiers.models import Dossier, DossierEvent

from .conftest import at, row

pytestmark = pytest.mark.django_db
NOW = at("2026-03-04", 10)
URL = "/api/v1/dossiers/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_put_creates_then_the_same_body_changes_nothing(api_for, commune_system):
    api = api_for(commune_system[1])
    code = "000.01.16.H44-260302-0007"
    first = api.put(URL + code, row(code))
    assert first.status_code == 201, first.json()
    assert first.json()["result"] == "created"
    assert first.json()["due_date"] == "2026-03-05"  # 3 working days, the day of receipt not counted
    again = api.put(URL + code, row(code))
    assert again.status_code == 200
    assert again.json()["result"] == "unchanged"
    dossier = Dossier.objects.get(code=code)
    assert list(DossierEvent.objects.filter(dossier=dossier).values_list("action", flat=True)) == [
        "dossier.api_created"
    ]
    assert dossier.created_by == commune_system[0].user


def test_put_with_changes_updates_and_records_what_changed(api_for, commune_system):
    api = api_for(commune_system[1])
    code = "000.01.16.H44-260302-0007"
    api.put(URL + code, row(code))
    changed = api.put(URL + code, row(code, trang_thai="9", ngay_ket_thuc_xu_ly="03/03/2026 16:00"))
    assert changed.status_code == 200
    assert changed.json()["result"] == "updated"
    assert changed.json()["status"] == 9 and changed.json()["timeliness"] == "early"
    event = DossierEvent.objects.filter(dossier__code=code).latest("id")
    assert event.action == "dossier.api_updated"
    assert (event.from_status, event.to_status) == (4, 9)
    assert set(event.details["fields"]) == {"status", "finished_at", "timeliness"}


def test_bad_rows_get_the_importers_messages_as_problem_details(api_for, commune_system):
    code = "000.01.16.H44-260302-0007"
    vietnamese = api_for(commune_system[1]).put(
        URL + code, row(code, ma_thu_tuc="9.999999", so_dien_thoai="12")
    )
    assert vietnamese.status_code == 422
    assert vietnamese["Content-Type"] == "application/problem+json"
    body = vietnamese.json()
    assert body["type"].endswith("invalid-dossiers") and body["status"] == 422
    assert "không có trong danh mục" in body["detail"]
    assert "Số điện thoại" in body["detail"]
    english = api_for(commune_system[1], "en").put(URL + code, row(code, ma_thu_tuc="9.999999"))
    assert "is not in the catalogue" in english.json()["detail"]
    assert english["Content-Language"] == "en"
    assert not Dossier.objects.exists()


def test_code_in_body_must_match_the_address(api_for, commune_system):
    response = api_for(commune_system[1]).put(
        URL + "000.01.16.H44-260302-0007", row("000.01.16.H44-260302-0008")
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("code-mismatch")


def test_a_commune_client_cannot_write_for_another_commune(api_for, commune_system, other_commune_system):
    code = "000.02.16.H44-260302-0001"
    refused = api_for(commune_system[1]).put(URL + code, row(code, ma_don_vi="19141"))
    assert refused.status_code == 422
    assert "19141" in refused.json()["detail"]
    api_for(other_commune_system[1]).put(URL + code, row(code, ma_don_vi="19141"))
    # The dossier of the other commune does not exist for this client.
    assert api_for(commune_system[1]).get(URL + code).status_code == 404


def test_batch_is_all_or_nothing(api_for, province_system):
    api = api_for(province_system[1])
    rows = [row(f"000.01.16.H44-260302-{n:04d}") for n in range(1, 6)]
    rows[3]["trang_thai"] = "11"
    refused = api.post("/api/v1/dossiers:batch", {"dossiers": rows})
    assert refused.status_code == 422
    assert [error["index"] for error in refused.json()["errors"]] == [3]
    assert not Dossier.objects.exists()
    rows[3]["trang_thai"] = "4"
    done = api.post("/api/v1/dossiers:batch", {"dossiers": rows})
    assert done.status_code == 200
    assert (done.json()["created"], done.json()["updated"], done.json()["unchanged"]) == (5, 0, 0)
    again = api.post("/api/v1/dossiers:batch", {"dossiers": rows})
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 5)
    assert Dossier.objects.count() == 5 and DossierEvent.objects.count() == 5


def test_batch_refuses_repeated_codes_and_more_than_a_thousand(api_for, province_system):
    api = api_for(province_system[1])
    twice = api.post("/api/v1/dossiers:batch", {"dossiers": [row(), row()]})
    assert twice.status_code == 422 and "hai lần" in twice.json()["detail"]
    big = api.post("/api/v1/dossiers:batch", {"dossiers": [row()] * 1001})
    assert big.status_code == 413
    assert big.json()["type"].endswith("batch-too-large")
    assert api.post("/api/v1/dossiers:batch", {"rows": []}).status_code == 400


def test_idempotency_key_replays_the_first_answer(api_for, province_system):
    api = api_for(province_system[1])
    body = {"dossiers": [row()]}
    first = api.post("/api/v1/dossiers:batch", body, idempotency_key="k-1")
    second = api.post("/api/v1/dossiers:batch", body, idempotency_key="k-1")
    assert first.json() == second.json() and first.json()["created"] == 1
    assert second["Idempotent-Replayed"] == "true"
    other = api.post("/api/v1/dossiers:batch", {"dossiers": [row(dia_chi="Thôn 9")]}, idempotency_key="k-1")
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert IdempotencyRecord.objects.count() == 1
    assert Dossier.objects.get().applicant_address == "Thôn 3"


def test_list_pages_by_cursor_and_filters_by_update_time(api_for, province_system):
    api = api_for(province_system[1])
    api.post(
        "/api/v1/dossiers:batch", {"dossiers": [row(f"000.01.16.H44-260302-{n:04d}") for n in range(1, 6)]}
    )
    seen, cursor = [], None
    while True:
        page = api.get(
            "/api/v1/dossiers", QUERY_STRING=f"limit=2{'&cursor=' + cursor if cursor else ''}"
        ).json()
        seen += [dossier["code"] for dossier in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))
    with time_machine.travel(at("2026-03-04", 11), tick=False):
        api.put(URL + "000.01.16.H44-260302-0002", row("000.01.16.H44-260302-0002", dia_chi="Thôn 7"))
    changed = api.get("/api/v1/dossiers", QUERY_STRING="updated_since=2026-03-04T10:30:00%2B07:00").json()
    assert [dossier["code"] for dossier in changed["results"]] == ["000.01.16.H44-260302-0002"]
    bad = api.get("/api/v1/dossiers", QUERY_STRING="updated_since=yesterday")
    assert bad.status_code == 400 and bad.json()["type"].endswith("invalid-parameter")
    assert api.get("/api/v1/dossiers", QUERY_STRING="cursor=%%%").status_code == 400


def test_personal_numbers_are_masked_without_the_scope(api_for, commune_system, commune, procedure):
    from api.clients import create_client

    code = "000.01.16.H44-260302-0007"
    api_for(commune_system[1]).put(URL + code, row(code))
    masked = api_for(commune_system[1]).get(URL + code).json()
    assert masked["applicant_id_number"] == "0440******34"
    assert masked["applicant_phone"] == "0912***678"
    assert [event["action"] for event in masked["events"]] == ["dossier.api_created"]
    _client, token = create_client(
        name="trusted", unit=commune, scopes=["dossiers:read", "dossiers:personal"]
    )
    clear = api_for(token).get(URL + code).json()
    assert clear["applicant_id_number"] == "044090001234"


def test_tokens_scopes_and_sessions(api_for, commune_system, official, leader, postal_staff, client):
    from api.clients import create_client

    code = "000.01.16.H44-260302-0007"
    assert api_for(None).get("/api/v1/dossiers").status_code == 401
    assert api_for("pdk_not-a-token").get("/api/v1/dossiers").status_code == 401
    reader, token = create_client(name="reader", unit=official.unit, scopes=["dossiers:read"])
    assert api_for(token).put(URL + code, row(code)).status_code == 403
    assert api_for(token).get("/api/v1/dossiers").status_code == 200
    reader.revoke()
    revoked = api_for(token).get("/api/v1/dossiers")
    assert revoked.status_code == 401 and revoked["WWW-Authenticate"].startswith("Bearer")
    # People read with their session; writing needs a client token.
    client.force_login(official)
    assert client.get("/api/v1/dossiers").status_code == 200
    assert client.put(URL + code, row(code), content_type="application/json").status_code == 403
    client.force_login(postal_staff)
    assert client.get("/api/v1/weekly-rates", {"unit": "19111"}).status_code == 403


def test_rate_limit_per_client(api_for, commune, procedure):
    from api.clients import create_client

    _client, token = create_client(name="slow", unit=commune, scopes=["dossiers:read"], rate_per_minute=3)
    api = api_for(token)
    answers = [api.get("/api/v1/dossiers").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = api.get("/api/v1/dossiers")
    assert limited["Retry-After"] and limited.json()["type"].endswith("rate-limited")
    assert "yêu cầu" in limited.json()["detail"]


def test_create_api_client_command_prints_a_token_once(commune, procedure, capsys):
    from django.core.management import call_command

    from api.models import ApiClient, hash_token

    call_command(
        "create_api_client", "tinh", "--unit", commune.code, "--scopes", "dossiers:read,reports:read"
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    client = ApiClient.objects.get(name="tinh")
    assert token.startswith("pdk_") and client.token_hash == hash_token(token)
    assert token not in str(ApiClient.objects.values_list(flat=True))
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_client", "x", "--unit", commune.code, "--scopes", "everything")
