"""Property-based tests: whatever a user or a file sends, the answer is a validation message or a
success — never a server error — and a rejected input changes nothing.

The Django test client re-raises any exception a view lets escape, so "no 500" is checked by the
request itself not raising. Examples share one database transaction per test; every property
compares row counts before and after its own example.
"""

from __future__ import annotations

import csv
from datetime import datetime
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dossiers import importing
from dossiers.models import Dossier, DossierDocument, DossierEvent, ImportJob, LookupWindow
from postal import s10
from postal.models import ItemEvent, PostalItem
from postal.services import valid_code
from reports.models import ComputationRun
from reports.weeks import WeekError, parse_week
from tests.dossiers.conftest import at

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
NOW = at(2026, 3, 4, 10)

# Text as people and broken files send it: any Unicode incl. control characters and NUL.
any_text = st.text(max_size=60)
digits = st.text(alphabet="0123456789", min_size=0, max_size=14)
moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)).map(
    lambda d: (
        d.strftime("%d/%m/%Y %H:%M") if d.year >= 1000 else f"{d.day:02d}/{d.month:02d}/{d.year:04d} 00:00"
    )
)


def one_of_or_text(*values):
    return st.one_of(st.sampled_from(values), any_text)


def rows_counts():
    return (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        DossierDocument.objects.count(),
        PostalItem.objects.count(),
        ItemEvent.objects.count(),
    )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- intake form ------------------------------------------------------------------------------

intake_data = st.fixed_dictionaries(
    {
        "procedure": st.one_of(st.just("PROCEDURE"), any_text, st.integers().map(str)),
        "applicant_name": st.one_of(st.just("Nguyễn Văn An"), any_text, st.text(min_size=140, max_size=200)),
        "applicant_phone": st.one_of(digits, st.just("+84912345678"), any_text),
        "applicant_address": any_text,
        "applicant_id_number": st.one_of(digits, any_text),
        "intake_channel": one_of_or_text("1", "2", "3", "0", "-1", "99999999999999999999"),
        "received_at": st.one_of(st.just(""), moments, any_text),
        "return_channel": one_of_or_text("desk", "online", "bcci"),
        "decline_reason": one_of_or_text("", "in_person", "fee", "other"),
        "decline_note": any_text,
        "documents-TOTAL_FORMS": one_of_or_text("0", "1", "2", "5000", "-3"),
        "documents-INITIAL_FORMS": one_of_or_text("0", "1"),
        "documents-0-name": any_text,
        "documents-0-form": one_of_or_text("original", "copy", "certified_copy"),
        "documents-0-count": st.one_of(st.integers().map(str), any_text),
    }
)


@pytest.mark.django_db
@FUZZ
@given(data=intake_data)
@example(data={"procedure": "PROCEDURE", "applicant_name": "An", "intake_channel": "1",
               "received_at": "01/01/0001 00:00", "return_channel": "bcci",
               "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0"})  # fmt: skip
@example(data={"procedure": "PROCEDURE", "applicant_name": "An", "intake_channel": "1",
               "received_at": "31/12/9999 23:59", "return_channel": "bcci",
               "documents-TOTAL_FORMS": "0", "documents-INITIAL_FORMS": "0"})  # fmt: skip
def test_intake_form_answers_every_input(client, official, birth_registration, frozen, data):
    client.force_login(official)
    if data["procedure"] == "PROCEDURE":
        data = {**data, "procedure": str(birth_registration.pk)}
    before = rows_counts()
    response = client.post(reverse("dossiers:create"), data)
    assert response.status_code in (200, 302, 400)
    if response.status_code == 302:
        assert Dossier.objects.count() == before[0] + 1
    else:
        assert rows_counts() == before
    if response.status_code == 200:  # 400: a NUL refused before the form (core.middleware)
        form, formset = response.context["form"], response.context["formset"]
        assert form.errors or (formset.errors and any(formset.errors)) or formset.non_form_errors()


# --- import parser ----------------------------------------------------------------------------

cell = {
    "ma_ho_so": one_of_or_text("000.01.16.H44-260302-0007", "000.01.16.H44-260302-0008", "x-1-2"),
    "ma_thu_tuc": one_of_or_text("1.001193", ""),
    "ma_don_vi": one_of_or_text("19111", "19112", ""),
    "ho_ten_nguoi_nop": st.one_of(st.just("Trần Văn Bình"), any_text),
    "so_dien_thoai": st.one_of(digits, any_text),
    "dia_chi": any_text,
    "so_dinh_danh": st.one_of(digits, any_text),
    "kenh_tiep_nhan": one_of_or_text("1", "2", "3"),
    "hinh_thuc_tra_ket_qua": one_of_or_text("bcci", "tai_quay", "truc_tuyen"),
    "ly_do_khong_nhan_qua_bcci": one_of_or_text("", "fee", "other"),
    "ghi_chu_ly_do": any_text,
    "trang_thai": one_of_or_text(*[str(n) for n in range(0, 12)]),
    "ngay_tiep_nhan": st.one_of(st.just("02/03/2026 09:15"), moments, any_text),
    "ngay_hen_tra": st.one_of(st.just(""), st.just("05/03/2026"), any_text),
    "ngay_ket_thuc_xu_ly": st.one_of(st.just("03/03/2026 10:00"), st.just(""), moments, any_text),
    "ngay_tra_ket_qua": st.one_of(st.just("04/03/2026 08:00"), st.just(""), moments, any_text),
}
import_files = st.tuples(
    st.one_of(st.just(importing.COLUMNS), st.permutations(importing.COLUMNS), st.lists(any_text, max_size=5)),
    st.lists(st.fixed_dictionaries(cell), min_size=0, max_size=4),
    st.sampled_from([ImportJob.Mode.ALL_OR_NOTHING, ImportJob.Mode.GOOD_ROWS]),
    st.one_of(st.none(), st.binary(max_size=200)),
)


@pytest.mark.django_db
@FUZZ
@given(spec=import_files)
def test_import_answers_every_file(
    tmp_path_factory, settings, official, birth_registration, commune, frozen, spec
):
    columns, rows, mode, raw = spec
    folder = tmp_path_factory.mktemp("import")
    settings.MEDIA_ROOT = folder / "media"
    path = folder / "file.csv"
    if raw is not None:
        path.write_bytes(raw)
    else:
        buffer = StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(columns)), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    before = rows_counts()
    job = importing.create_job_from_path(by=official, path=path, mode=mode)
    job = importing.run_import(job.pk)
    assert job.status in (ImportJob.Status.DONE, ImportJob.Status.REJECTED)
    created = Dossier.objects.count() - before[0]
    if job.status == ImportJob.Status.REJECTED:
        assert rows_counts() == before
        assert job.message or job.errors
    else:
        assert created == job.created_count
        if job.error_count:
            assert job.errors


# --- S10 item codes ---------------------------------------------------------------------------

s10_like = st.one_of(
    any_text,
    st.builds(
        lambda a, n, b: f"{a}{n}{b}",
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
        st.text(alphabet="0123456789", min_size=8, max_size=10),
        st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZvn ", min_size=0, max_size=3),
    ),
)


@settings(FUZZ, max_examples=200)
@given(code=s10_like)
def test_s10_parser_accepts_or_explains(code):
    try:
        normalised = valid_code(code)
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)
        assert not s10.is_valid(s10.normalise(code))
    else:
        assert s10.is_valid(normalised)
        assert s10.make_code(normalised[:2], normalised[2:10], normalised[11:]) == normalised


@pytest.mark.django_db
@FUZZ
@given(code=s10_like)
def test_scan_page_answers_every_code(client, postal_staff, code):
    client.force_login(postal_staff)
    before = rows_counts()
    response = client.get(reverse("postal:scan"), {"code": code})
    assert response.status_code in (200, 400, 404)
    assert rows_counts() == before


# --- ISO weeks --------------------------------------------------------------------------------

week_like = st.one_of(
    any_text,
    st.builds(
        lambda y, w, dash: f"{y}{'-' if dash else ''}W{w}",
        st.integers(-10, 10_050),
        st.integers(-5, 60),
        st.booleans(),
    ),
)


@settings(FUZZ, max_examples=200)
@given(text=st.one_of(st.none(), week_like))
def test_week_parser_accepts_or_explains(text):
    try:
        monday = parse_week(text)
    except WeekError as error:
        assert str(error).strip()
    else:
        assert monday.weekday() == 0
        year, week, _ = monday.isocalendar()
        assert parse_week(f"{year}-W{week:02d}") == monday


@pytest.mark.django_db
@settings(FUZZ, max_examples=40)  # whole dashboard pages; the parser itself gets 200 below
@given(text=week_like)
def test_reports_pages_answer_every_week(client, leader, text):
    client.force_login(leader)
    for url in (reverse("reports:dashboard"), reverse("reports:exports")):
        assert client.get(url, {"week": text}).status_code in (200, 400)
    try:
        parse_week(text)
    except WeekError:
        # A rejected week queues nothing: the leader is sent back with the message.
        runs = ComputationRun.objects.count()
        response = client.post(reverse("reports:recompute"), {"week": text})
        assert response.status_code == (400 if "\x00" in text else 302)  # NUL: core.middleware
        assert ComputationRun.objects.count() == runs


# --- public lookup ----------------------------------------------------------------------------


@pytest.mark.django_db
@FUZZ
@given(code=st.one_of(any_text, st.just("000.01.16.H44-260302-0007")), pin=st.one_of(digits, any_text))
def test_public_lookup_answers_every_input(client, code, pin):
    LookupWindow.objects.all().delete()  # the lookup is rate limited per address; each example starts fresh
    before = rows_counts()
    response = client.post(reverse("tracking:track"), {"code": code, "pin": pin})
    assert response.status_code == (400 if "\x00" in code + pin else 200)
    assert rows_counts() == before
