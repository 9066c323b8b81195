"""The demo catalogue: commune-level procedures in the civil status, certification and land
fields, as a commune one-stop desk lists them.

Processing times, fees and document lists follow the published procedures at the time of
writing; an administrator keeps the real catalogue up to date in the admin.
"""

from __future__ import annotations

from django.db import transaction

from dossiers.models import Procedure, ProcedureField

FIELDS = [
    ("HT", "Hộ tịch"),
    ("CT", "Chứng thực"),
    ("DD", "Đất đai"),
    ("TP", "Tư pháp – Hòa giải"),
]

# (national code, name, field, working days, fee VND, BCCI intake, BCCI return, presence, documents)
PROCEDURES = [
    (
        "1.001193",
        "Thủ tục đăng ký khai sinh",
        "HT",
        0,
        0,
        True,
        True,
        False,
        ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Giấy tờ tùy thân của người đi đăng ký"],
    ),
    (
        "1.000894",
        "Thủ tục đăng ký kết hôn",
        "HT",
        0,
        0,
        False,
        True,
        True,
        ["Tờ khai đăng ký kết hôn", "Giấy tờ tùy thân của hai bên nam, nữ"],
    ),
    (
        "1.000656",
        "Thủ tục đăng ký khai tử",
        "HT",
        0,
        0,
        True,
        True,
        False,
        ["Tờ khai đăng ký khai tử", "Giấy báo tử hoặc giấy tờ thay thế giấy báo tử"],
    ),
    (
        "1.004873",
        "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân",
        "HT",
        3,
        15000,
        True,
        True,
        False,
        ["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân", "Giấy tờ chứng minh việc ly hôn (nếu có)"],
    ),
    (
        "1.004859",
        "Thủ tục đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch",
        "HT",
        3,
        15000,
        True,
        True,
        False,
        ["Tờ khai đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "Giấy tờ liên quan làm căn cứ"],
    ),
    (
        "1.001022",
        "Thủ tục đăng ký nhận cha, mẹ, con",
        "HT",
        3,
        15000,
        False,
        True,
        True,
        ["Tờ khai đăng ký nhận cha, mẹ, con", "Chứng cứ chứng minh quan hệ cha, mẹ, con"],
    ),
    (
        "2.000635",
        "Thủ tục cấp bản sao Trích lục hộ tịch",
        "HT",
        0,
        8000,
        True,
        True,
        False,
        ["Tờ khai cấp bản sao trích lục hộ tịch"],
    ),
    (
        "1.004884",
        "Thủ tục đăng ký lại khai sinh",
        "HT",
        5,
        0,
        True,
        True,
        False,
        ["Tờ khai đăng ký lại khai sinh", "Bản sao giấy tờ có thông tin về nội dung khai sinh"],
    ),
    (
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "CT",
        0,
        2000,
        True,
        True,
        False,
        ["Bản chính giấy tờ, văn bản", "Bản sao cần chứng thực"],
    ),
    (
        "2.000884",
        "Chứng thực chữ ký trong các giấy tờ, văn bản",
        "CT",
        0,
        10000,
        False,
        True,
        True,
        ["Giấy tờ tùy thân của người yêu cầu chứng thực", "Giấy tờ, văn bản cần chứng thực chữ ký"],
    ),
    (
        "2.001035",
        "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        "CT",
        2,
        50000,
        False,
        True,
        True,
        ["Dự thảo hợp đồng, giao dịch", "Giấy tờ tùy thân của người yêu cầu", "Giấy tờ về tài sản"],
    ),
    (
        "2.001019",
        "Chứng thực di chúc",
        "CT",
        2,
        50000,
        False,
        True,
        True,
        ["Dự thảo di chúc", "Giấy tờ tùy thân của người lập di chúc", "Giấy tờ về tài sản"],
    ),
    (
        "1.012756",
        "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận lần đầu",
        "DD",
        20,
        100000,
        True,
        True,
        False,
        ["Đơn đăng ký đất đai, tài sản gắn liền với đất", "Giấy tờ về quyền sử dụng đất", "Sơ đồ thửa đất"],
    ),
    (
        "1.012766",
        "Đăng ký biến động do chuyển nhượng, tặng cho, thừa kế quyền sử dụng đất",
        "DD",
        10,
        50000,
        True,
        True,
        False,
        [
            "Đơn đăng ký biến động đất đai",
            "Hợp đồng, văn bản chuyển quyền đã công chứng, chứng thực",
            "Giấy chứng nhận đã cấp",
        ],
    ),
    (
        "1.012770",
        "Cấp đổi Giấy chứng nhận quyền sử dụng đất",
        "DD",
        7,
        50000,
        True,
        True,
        False,
        ["Đơn đề nghị cấp đổi Giấy chứng nhận", "Giấy chứng nhận đã cấp"],
    ),
    (
        "1.012779",
        "Đính chính Giấy chứng nhận đã cấp",
        "DD",
        10,
        0,
        True,
        True,
        False,
        ["Đơn đề nghị đính chính", "Giấy chứng nhận đã cấp"],
    ),
    (
        "1.012790",
        "Chuyển mục đích sử dụng đất không phải xin phép",
        "DD",
        15,
        0,
        True,
        True,
        False,
        ["Đơn đăng ký chuyển mục đích sử dụng đất", "Giấy chứng nhận đã cấp"],
    ),
    (
        "1.003621",
        "Thủ tục hòa giải tranh chấp đất đai",
        "TP",
        30,
        0,
        False,
        True,
        True,
        ["Đơn yêu cầu hòa giải tranh chấp đất đai", "Tài liệu có liên quan"],
    ),
]


@transaction.atomic
def load_catalogue() -> tuple[int, int]:
    """Create the fields and procedures that are missing (idempotent; edits stay)."""
    fields = {}
    for code, name in FIELDS:
        fields[code], _ = ProcedureField.objects.get_or_create(code=code, defaults={"name": name})
    created = 0
    for code, name, field, days, fee, bcci_in, bcci_out, presence, documents in PROCEDURES:
        _, was_created = Procedure.objects.get_or_create(
            national_code=code,
            defaults={
                "name": name,
                "field": fields[field],
                "level": Procedure.Level.COMMUNE,
                "processing_days": days,
                "fee": fee,
                "bcci_intake_allowed": bcci_in,
                "bcci_return_allowed": bcci_out,
                "presence_required": presence,
                "required_documents": "\n".join(documents),
            },
        )
        created += was_created
    return created, len(PROCEDURES)
