"""Message texts: the default Vietnamese templates, their placeholders, and rendering.

Templates are plain text with ``{placeholder}`` fields (no format spec, no attribute access: a
placeholder is replaced by its value or left as typed). Every template carries ``{dung_tin}``,
the stop link, so that every message says how to stop them. Only what Law 91/2025 allows is
put in a message: dossier and item codes, the procedure's name, dates, the desk's and the post
office's names and public links — never an identity number, never the applicant's name,
address or phone.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from notify.models import MAX_MESSAGE_LENGTH, Event

PLACEHOLDER = re.compile(r"\{(\w+)\}")
STOP_PLACEHOLDER = "dung_tin"

# What each placeholder holds, and the longest value it can take (a long procedure name is cut).
PLACEHOLDERS: dict[str, tuple] = {
    "ma_ho_so": (_("dossier code"), 40),
    "thu_tuc": (_("procedure name (cut to 60 characters)"), 60),
    "noi_nhan": (_("the commune's one-stop desk"), 60),
    "ngay_hen_tra": (_("appointment date dd/mm/yyyy"), 10),
    "tra_cuu": (_("public lookup link of the dossier"), 80),
    "bo_sung": (_("documents to supplement (cut to 120 characters)"), 120),
    "cach_nhan": (_("how the result reaches the citizen"), 80),
    "ma_buu_gui": (_("postal item code (S10)"), 13),
    "ngay_phat": (_("delivery expected by dd/mm/yyyy"), 10),
    "buu_dien": (_("the post office delivering the result"), 60),
    "danh_gia": (_("rating link (valid 30 days)"), 60),
    STOP_PLACEHOLDER: (_("link to stop messages"), 60),
}

COMMON = ("ma_ho_so", "thu_tuc", "noi_nhan", "tra_cuu", STOP_PLACEHOLDER)
ALLOWED: dict[str, frozenset[str]] = {
    Event.RECEIVED: frozenset({*COMMON, "ngay_hen_tra"}),
    Event.SUPPLEMENT: frozenset({*COMMON, "bo_sung"}),
    Event.RESULT_READY: frozenset({*COMMON, "cach_nhan"}),
    Event.HANDED_TO_POST: frozenset({*COMMON, "ma_buu_gui", "ngay_phat", "buu_dien"}),
    Event.DELIVERY_FAILED: frozenset({*COMMON, "ma_buu_gui", "buu_dien"}),
    Event.DELIVERED: frozenset({*COMMON, "ma_buu_gui", "danh_gia"}),
    Event.BACK_AT_DESK: frozenset({*COMMON, "ma_buu_gui"}),
}

# The texts a new installation starts with; administrators edit them in the admin.
DEFAULTS: dict[str, str] = {
    Event.RECEIVED: (
        "Bộ phận một cửa {noi_nhan} đã tiếp nhận hồ sơ {ma_ho_so} ({thu_tuc}), "
        "hẹn trả ngày {ngay_hen_tra}. Tra cứu: {tra_cuu} . Dừng nhận tin: {dung_tin}"
    ),
    Event.SUPPLEMENT: (
        "Hồ sơ {ma_ho_so} cần bổ sung: {bo_sung}. Mời ông/bà mang đến Bộ phận một cửa. "
        "Tra cứu: {tra_cuu} . Dừng nhận tin: {dung_tin}"
    ),
    Event.RESULT_READY: (
        "Hồ sơ {ma_ho_so} ({thu_tuc}) đã có kết quả. {cach_nhan} Tra cứu: {tra_cuu} . "
        "Dừng nhận tin: {dung_tin}"
    ),
    Event.HANDED_TO_POST: (
        "Kết quả hồ sơ {ma_ho_so} đã được giao cho bưu điện ({buu_dien}), mã bưu gửi {ma_buu_gui}, "
        "dự kiến phát trước ngày {ngay_phat}. Theo dõi: {tra_cuu} . Dừng nhận tin: {dung_tin}"
    ),
    Event.DELIVERY_FAILED: (
        "Bưu điện chưa phát được kết quả hồ sơ {ma_ho_so} (bưu gửi {ma_buu_gui}). Để hẹn lại giờ "
        "phát, mời ông/bà liên hệ {buu_dien} hoặc tra cứu: {tra_cuu} . Dừng nhận tin: {dung_tin}"
    ),
    Event.DELIVERED: (
        "Kết quả hồ sơ {ma_ho_so} (bưu gửi {ma_buu_gui}) đã được phát. Xin ông/bà đánh giá "
        "1–5 sao trong 30 ngày: {danh_gia} . Dừng nhận tin: {dung_tin}"
    ),
    Event.BACK_AT_DESK: (
        "Bưu điện đã báo phát 2 lần không thành công, kết quả hồ sơ {ma_ho_so} đã chuyển về "
        "Bộ phận một cửa {noi_nhan}. Mời ông/bà đến nhận. Tra cứu: {tra_cuu} . "
        "Dừng nhận tin: {dung_tin}"
    ),
}


def render(text: str, values: dict[str, str]) -> str:
    """Replace each ``{name}`` by its value; unknown names stay as typed."""
    return PLACEHOLDER.sub(lambda match: str(values.get(match[1], match[0])), text).strip()


def cut(value: str, limit: int) -> str:
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def longest_values() -> dict[str, str]:
    return {name: "x" * limit for name, (_label, limit) in PLACEHOLDERS.items()}


def problems(event: str, text: str) -> list[str]:
    """What is wrong with a template, in words for the administrator (empty when it is fine)."""
    found: list[str] = []
    names = set(PLACEHOLDER.findall(text))
    unknown = sorted(names - ALLOWED.get(event, frozenset()))
    if unknown:
        found.append(
            _("Unknown fields for this message: %(names)s. Allowed: %(allowed)s.")
            % {
                "names": ", ".join(f"{{{n}}}" for n in unknown),
                "allowed": ", ".join(f"{{{n}}}" for n in sorted(ALLOWED.get(event, ()))),
            }
        )
    if STOP_PLACEHOLDER not in names:
        found.append(_("Every message must tell the citizen how to stop them: include {dung_tin}."))
    longest = len(render(text, longest_values()))
    if longest > MAX_MESSAGE_LENGTH:
        found.append(
            _("With the longest values this message has %(n)d characters; at most %(max)d are allowed.")
            % {"n": longest, "max": MAX_MESSAGE_LENGTH}
        )
    return found
