"""API fixtures: machine clients of each kind and a way to call the API with a token."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client

from api import authentication, webhooks
from api.clients import create_client
from dossiers.models import Procedure, ProcedureField

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ALL_DOSSIER_SCOPES = ["dossiers:read", "dossiers:write"]


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def eager_tasks():
    """Webhook deliveries run in-process here even when a broker is configured (CI)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_state():
    """Rate-limit counters live in the cache, listeners and tokens in memory: each test starts
    clean."""
    cache.clear()
    webhooks.forget_listeners()
    authentication.forget_tokens()
    yield
    webhooks.forget_listeners()


@pytest.fixture
def procedure(db):
    field = ProcedureField.objects.create(code="TP", name="Tư pháp")
    return Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )


class Api:
    """The test client with a client token and JSON bodies."""

    def __init__(self, token: str | None, language: str = "vi"):
        self.client = Client()
        self.headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if token:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def _send(self, method, path, body=None, **headers):
        extra = {**self.headers, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}}
        data = json.dumps(body) if body is not None else None
        return getattr(self.client, method)(path, data=data, content_type="application/json", **extra)

    def get(self, path, **headers):
        return self.client.get(path, **{**self.headers, **headers})

    def put(self, path, body, **headers):
        return self._send("put", path, body, **headers)

    def post(self, path, body, **headers):
        return self._send("post", path, body, **headers)

    def delete(self, path):
        return self.client.delete(path, **self.headers)


@pytest.fixture
def api_for():
    def make(token, language="vi"):
        return Api(token, language)

    return make


@pytest.fixture
def province_system(province, commune, other_commune, far_commune, procedure):
    """The provincial one-stop system: writes and reads every commune of the province."""
    return create_client(
        name="one-stop-44", unit=province, scopes=[*ALL_DOSSIER_SCOPES, "reports:read", "webhooks:manage"]
    )


@pytest.fixture
def commune_system(commune, procedure):
    return create_client(name="commune-19111", unit=commune, scopes=ALL_DOSSIER_SCOPES)


@pytest.fixture
def other_commune_system(other_commune, procedure):
    return create_client(name="commune-19141", unit=other_commune, scopes=ALL_DOSSIER_SCOPES)


@pytest.fixture
def carrier(district_post, post_office, other_post_office):
    """The carrier's tracking system, for the district post and the offices under it."""
    return create_client(name="carrier", post_office=district_post, scopes=["items:write", "webhooks:manage"])


def row(code="000.01.16.H44-260302-0007", **overrides) -> dict:
    """A dossier in the columns of docs/import-format.md."""
    values = {
        "ma_ho_so": code,
        "ma_thu_tuc": "1.001193",
        "ma_don_vi": "19111",
        "ho_ten_nguoi_nop": "Trần Văn Bình",
        "so_dien_thoai": "0912345678",
        "dia_chi": "Thôn 3",
        "so_dinh_danh": "044090001234",
        "kenh_tiep_nhan": "1",
        "hinh_thuc_tra_ket_qua": "bcci",
        "trang_thai": "4",
        "ngay_tiep_nhan": "02/03/2026 09:15",
    }
    values.update(overrides)
    return values
