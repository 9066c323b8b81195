"""Every history row reads as a sentence: no event kind without a label (core.labels), and the
main pages never show an internal code or an ISO date."""

from __future__ import annotations

import ast
import re
from datetime import date, datetime
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.utils import translation

from core import labels

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".venv", "tests", "bench", "migrations", "node_modules", "static", "locale"}
NAMESPACES = ("dossier", "item", "postal", "handover", "transfer", "post_office", "network_action", "privacy")
ACTION = re.compile(r"^({})\.[a-z_]+$".format("|".join(NAMESPACES)))


def _sources():
    for path in ROOT.rglob("*.py"):
        if not SKIP.intersection(path.relative_to(ROOT).parts):
            yield path


def _written_actions() -> dict[str, str]:
    """String constants shaped like an event action anywhere in the application's code (module
    paths such as ``postal.urls`` excepted), and where each is."""
    found = {}
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION.match(node.value):
                if find_spec(node.value.split(".")[0]) and _is_module(node.value):
                    continue
                found.setdefault(node.value, f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.JoinedStr) and node.values:
                head = node.values[0]
                if isinstance(head, ast.Constant) and re.match(
                    r"^({})\.$".format("|".join(NAMESPACES)), str(head.value)
                ):
                    found.setdefault(f"{head.value}{{…}}", f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _is_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_every_event_kind_written_has_a_label():
    written = _written_actions()
    assert len(written) > 30  # the scan sees the application's actions
    # The names of outbound webhooks (api.models.EventType) are what subscribers receive, not rows
    # of a history: they are shown by their choice labels.
    from api.models import EventType

    missing = {
        action: where
        for action, where in written.items()
        if labels.label_for(action) is None and action not in EventType.values
    }
    assert not missing, f"event kinds without a label in an app's event_labels.py: {missing}"


def test_every_label_is_translated_to_vietnamese():
    with translation.override("vi"):
        untranslated = []
        for action, label in labels.labels().items():
            for text in filter(None, (label.text, label.detail)):
                if not re.sub(r"%\(\w+\)s", "", str(text)).strip():
                    continue  # only a value (a status in words): nothing to translate
                with translation.override("en"):
                    english = str(text)
                if str(text) == english:
                    untranslated.append((action, english))
    assert not untranslated


def test_an_unknown_kind_never_prints_its_code():
    with translation.override("vi"):
        assert labels.describe("dossier.something_new", {"reason": "x"}) == "Thay đổi đã được ghi nhận"


@pytest.mark.parametrize(
    ("action", "details", "expected"),
    [
        (
            "dossier.extended",
            {"previous_due_date": "2026-03-09", "due_date": "2026-03-16", "reason": "Chờ xác minh"},
            "Gửi phiếu xin lỗi và hẹn lại ngày trả kết quả: "
            "từ 09/03/2026 đến 16/03/2026, lý do: Chờ xác minh",
        ),
        (
            "dossier.accepted",
            {"due_date": "2026-03-09"},
            "Tiếp nhận hồ sơ tại Bộ phận một cửa: hẹn trả ngày 09/03/2026",
        ),
        ("dossier.accepted", {"due_date": None}, "Tiếp nhận hồ sơ tại Bộ phận một cửa"),
        ("dossier.finished", {"timeliness": "late"}, "Đã xử lý xong: Quá hạn"),
        (
            "item.delivery_failed",
            {"outcome": "not_home", "attempt": 1},
            "Phát không thành công: Không có người ở nhà",
        ),
        (
            "dossier.payment_requested",
            {"amount": 1500000},
            "Yêu cầu công dân thực hiện nghĩa vụ tài chính: số tiền 1.500.000 đồng",
        ),
    ],
)
def test_sentences_in_vietnamese_with_readable_dates(db, action, details, expected):
    with translation.override("vi"):
        assert labels.describe(action, details) == expected


def test_values_read_as_a_person_writes_them():
    assert labels.format_value("2026-02-13") == "13/02/2026"
    assert labels.format_value("2026-02-13T01:30:00+00:00") == "13/02/2026 08:30"  # Asia/Ho_Chi_Minh
    assert labels.format_value(date(2026, 2, 13)) == "13/02/2026"
    assert labels.format_value(datetime(2026, 2, 13, 9, 5)) == "13/02/2026 09:05"
    assert labels.format_value(25000) == "25.000"
