"""The JSON the national portal's dossier-sync interface expects, built from one dossier change.

Field names and codes are the portal's (Vietnamese, PascalCase); dates are ``yyyyMMddHHmmss``
in Vietnam time. The shape is kept as a JSON schema in ``dvcqg/schema/hoso.schema.json``;
every payload is checked against it before it is sent. Only what the portal needs about the
applicant is sent: the name (ChuHoSo) — never an identity number, phone or address.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

from core.timezones import LOCAL_TZ
from dossiers.models import ReturnChannel

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "hoso.schema.json"

# HinhThuc: how the result is returned.
RETURN_FORMS = {ReturnChannel.DESK: 0, ReturnChannel.BCCI: 1, ReturnChannel.ONLINE: 2}

# NoiDungXuLy of each change, in Vietnamese whatever the language of the user who made it.
STEP_TEXTS = {
    "dossier.registered": "Tiếp nhận hồ sơ qua dịch vụ bưu chính công ích, chờ bàn giao",
    "dossier.accepted": "Tiếp nhận hồ sơ",
    "dossier.submitted_by_post": "Tiếp nhận hồ sơ do bưu điện bàn giao",
    "dossier.refused": "Từ chối tiếp nhận hồ sơ",
    "dossier.processing_started": "Bắt đầu xử lý hồ sơ",
    "dossier.supplement_requested": "Yêu cầu bổ sung giấy tờ",
    "dossier.supplement_completed": "Công dân đã bổ sung giấy tờ",
    "dossier.payment_requested": "Yêu cầu thực hiện nghĩa vụ tài chính",
    "dossier.payment_confirmed": "Đã thực hiện nghĩa vụ tài chính",
    "dossier.withdrawn": "Công dân rút hồ sơ",
    "dossier.stopped": "Dừng xử lý hồ sơ",
    "dossier.finished": "Đã xử lý xong",
    "dossier.returned": "Đã trả kết quả",
}
SYSTEM_ACTOR = "Hệ thống PostDesk"


def moment(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y%m%d%H%M%S") if value else ""


def day_end(value) -> str:
    """A due date as the portal's moment: the end of that working day."""
    return value.strftime("%Y%m%d") + "170000" if value else ""


def build(*, dossier, event, seq: int) -> dict:
    """The payload of one change (``event`` is the DossierEvent that recorded it)."""
    actor = event.actor
    step = {
        "MaHoSo": dossier.code,
        "NguoiXuLy": (actor.get_full_name() if actor else SYSTEM_ACTOR)[:150],
        "ThoiDiemXuLy": moment(event.at),
        "NoiDungXuLy": STEP_TEXTS.get(event.action, event.action)[:500],
        "TrangThai": int(event.to_status or dossier.status),
    }
    if actor is not None and actor.get_role_display():
        step["ChucDanh"] = str(actor.get_role_display())[:100]
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": dossier.procedure.national_code,
        "TenTTHC": dossier.procedure.name[:400],
        "MaLinhVuc": dossier.procedure.field.code,
        "MaDonVi": dossier.receiving_unit.code,
        "TenDonVi": dossier.receiving_unit.name,
        "KenhThucHien": int(dossier.intake_channel),
        "ChuHoSo": dossier.applicant_name[:150],
        "NgayTiepNhan": moment(dossier.received_at),
        "NgayHenTra": day_end(dossier.due_date),
        "TrangThaiHoSo": int(event.to_status or dossier.status),
        "NgayKetThucXuLy": moment(dossier.finished_at),
        "NgayTra": moment(dossier.returned_at),
        "HinhThuc": RETURN_FORMS.get(dossier.return_channel, 0),
        "SoThuTuThayDoi": seq,
        "QuaTrinhXuLy": [step],
    }


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def problems(payload: dict) -> list[str]:
    """Where the payload breaks the schema (empty when it is valid)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema())
    return [
        f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(payload)
    ]
