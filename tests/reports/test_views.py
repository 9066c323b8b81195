"""Dashboard, targets, exports and recomputation per role: the owner, another unit's user (404),
a role without the right (403)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from dossiers.models import Dossier
from reports.models import ComputationRun, Target, TargetChange
from reports.services import runs
from reports.services.aggregation import compute_weeks
from tests.reports.conftest import dossier, local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)
THIS_WEEK = date(2026, 3, 16)
DASHBOARD = reverse("reports:dashboard")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def figures(procedure, commune, other_commune, far_commune):
    """This week: Hoàn Lão returned 4 results, 3 by post; Bố Trạch returned 2, none by post."""
    at = local(2026, 3, 17, 9)
    returned = {"status": 10, "finished_at": at, "returned_at": at, "timeliness": "on_time"}
    Dossier.objects.bulk_create(
        [
            dossier(procedure, commune, received_at=at, return_channel="bcci", intake_channel=3, **returned)
            for _ in range(3)
        ]
        + [dossier(procedure, commune, received_at=at, decline_reason="fee", **returned)]
        + [
            dossier(procedure, other_commune, received_at=at, decline_reason="worried_papers", **returned)
            for _ in range(2)
        ]
        + [dossier(procedure, far_commune, received_at=at, return_channel="bcci", **returned)]
        # Late and nearly due, open.
        + [
            dossier(
                procedure, commune, received_at=local(2026, 3, 2), due_date=date(2026, 3, 16), code="LATE-1"
            )
        ]
        + [dossier(procedure, other_commune, received_at=at, due_date=date(2026, 3, 19), code="SOON-1")]
    )
    compute_weeks(mondays=[date(2026, 3, 9), THIS_WEEK])


def test_leader_sees_rates_against_targets_and_the_ranking(client_for, leader, district, figures):
    Target.objects.create(unit=district, year=2026, metric="bcci_return_rate", value=Decimal("30"))
    page = client_for(leader).get(DASHBOARD)
    assert page.status_code == 200
    html = page.content.decode()
    # District: 3 of 6 returned by post this week = 50,0 %, target 30 % -> +20,0 points.
    assert 'data-testid="week-bcci_return_rate">50,0 %<' in html
    assert "+20,0" in html
    # Ranking: Hoàn Lão (75 %) before Bố Trạch (0 %); the commune outside the district is absent.
    ranking = html.split('id="ranking"')[1].split("</table>")[0]
    assert ranking.index("Xã Hoàn Lão") < ranking.index("Xã Bố Trạch")
    assert "75,0 %" in ranking
    assert "Phường Đông Hà" not in ranking
    # Declines by commune, late and nearly due dossiers, freshness.
    assert "Lo ngại giao giấy tờ cho bưu điện" in html
    assert "LATE-1" in html and "SOON-1" in html
    assert "Số liệu tính lúc 10:00:00 18/03/2026" in html
    assert reverse("communes:unit_list") in html


def test_a_rate_without_denominator_is_a_dash_not_zero(client_for, leader, figures):
    html = client_for(leader).get(DASHBOARD).content.decode()
    # Nothing was delivered by post: J+n compliance has no denominator.
    assert 'data-testid="week-jn_compliance">—<' in html
    assert 'data-testid="week-jn_compliance">0,0 %<' not in html


def test_commune_official_sees_the_same_dashboard_for_their_commune(
    client_for, official, other_commune, figures
):
    page = client_for(official).get(DASHBOARD)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Bảng điều hành: Xã Hoàn Lão" in html
    assert 'data-testid="week-bcci_return_rate">75,0 %<' in html
    assert "SOON-1" not in html  # the other commune's dossier
    assert client_for(official).get(DASHBOARD, {"unit": other_commune.pk}).status_code == 404
    # Officials read; recomputation, targets and exports are for leaders.
    assert "Tính lại" not in html


def test_another_units_leader_gets_404(client_for, far_commune, district, figures):
    from tests.conftest import make_user

    outsider = make_user("lanhdao-khac", "leader", unit=far_commune)
    client = client_for(outsider)
    assert client.get(DASHBOARD, {"unit": district.pk}).status_code == 404
    assert (
        client.get(reverse("reports:export", args=["weekly", "xlsx"]), {"unit": district.pk}).status_code
        == 404
    )
    assert client.get(DASHBOARD, {"unit": "abc"}).status_code == 404


@pytest.mark.parametrize("url_name", ["reports:dashboard", "reports:targets", "reports:exports"])
def test_postal_staff_get_403(client_for, postal_staff, url_name):
    assert client_for(postal_staff).get(reverse(url_name)).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-W54", "Năm 2026 có các tuần từ 1 đến 53; không có tuần 54."),
        ("2026-13", "“2026-13” không phải là tuần"),
        ("", "Nhập tuần theo dạng YYYY-Www"),
        ("2026-W30", "Tuần 2026-W30 chưa bắt đầu"),
    ],
)
def test_bad_week_shows_a_clear_message_and_the_current_week(client_for, leader, figures, week, message):
    html = client_for(leader).get(DASHBOARD, {"week": week}).content.decode()
    assert message in html
    assert 'value="2026-W12"' in html


def test_changing_the_period_shows_that_week(client_for, leader, figures):
    html = client_for(leader).get(DASHBOARD, {"week": "2026-W11"}).content.decode()
    assert "Tuần 11/2026 (09/03–15/03)" in html
    assert 'data-testid="week-bcci_return_rate">—<' in html
    assert 'data-testid="ytd-bcci_return_rate">—<' in html


def test_dashboard_queries_do_not_grow_with_the_data(
    client_for, leader, procedure, commune, other_commune, django_assert_max_num_queries
):
    client = client_for(leader)
    Dossier.objects.bulk_create([dossier(procedure, commune, received_at=local(2026, 3, 17))])
    compute_weeks(mondays=[THIS_WEEK])
    client.get(DASHBOARD)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(DASHBOARD)
    Dossier.objects.bulk_create(
        [
            dossier(procedure, u, received_at=local(2026, 3, 16 + i % 3), due_date=date(2026, 3, 17 + i % 3))
            for i in range(80)
            for u in (commune, other_commune)
        ]
    )
    compute_weeks(mondays=[date(2026, 3, 9), THIS_WEEK])
    with django_assert_max_num_queries(len(few)):
        client.get(DASHBOARD)


def test_trend_chart_data_and_chartjs_are_served_locally(client_for, leader, figures):
    html = client_for(leader).get(DASHBOARD).content.decode()
    assert 'id="trend-data"' in html
    assert "/static/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/js/reports.js" in html
    assert "<script>" not in html  # no inline script (Content-Security-Policy)


# --- targets ---------------------------------------------------------------------------------


def test_leader_sets_a_target_with_history(client_for, leader, commune):
    client = client_for(leader)
    form = {"unit": commune.pk, "year": 2026, "metric": "bcci_return_rate", "value": "35,5"}
    response = client.post(reverse("reports:targets"), form)
    assert response.status_code == 302
    target = Target.objects.get()
    assert target.value == Decimal("35.5")
    client.post(reverse("reports:targets"), {**form, "value": "40"})
    assert list(TargetChange.objects.values_list("old_value", "new_value")) == [
        (None, Decimal("35.5")),
        (Decimal("35.5"), Decimal("40.0")),
    ]
    html = client.get(reverse("reports:targets")).content.decode()
    assert "40,0 %" in html


@pytest.mark.parametrize(
    ("value", "year", "message"),
    [
        ("140", 2026, "Chỉ tiêu là tỷ lệ phần trăm từ 0 đến 100."),
        ("-5", 2026, "Chỉ tiêu là tỷ lệ phần trăm từ 0 đến 100."),
        ("abc", 2026, "Nhập một số."),
        ("30", 1990, "Nhập năm từ 2000 đến 2100."),
    ],
)
def test_a_bad_target_is_refused_clearly_and_nothing_is_saved(
    client_for, leader, commune, value, year, message
):
    response = client_for(leader).post(
        reverse("reports:targets"),
        {"unit": commune.pk, "year": year, "metric": "on_time_rate", "value": value},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Target.objects.exists()


def test_a_target_for_a_unit_outside_the_scope_is_404(client_for, leader, far_commune):
    response = client_for(leader).post(
        reverse("reports:targets"),
        {"unit": far_commune.pk, "year": 2026, "metric": "on_time_rate", "value": "90"},
    )
    assert response.status_code == 404
    assert not Target.objects.exists()


def test_commune_officials_cannot_set_targets(client_for, official, commune):
    response = client_for(official).post(
        reverse("reports:targets"),
        {"unit": commune.pk, "year": 2026, "metric": "on_time_rate", "value": "90"},
    )
    assert response.status_code == 403
    assert not Target.objects.exists()


def test_a_commune_inherits_its_districts_target(client_for, official, district, figures):
    Target.objects.create(unit=district, year=2026, metric="on_time_rate", value=Decimal("95"))
    html = client_for(official).get(DASHBOARD).content.decode()
    assert "95,0 %" in html


# --- exports ---------------------------------------------------------------------------------


def test_weekly_xlsx_holds_the_figures_in_the_upward_layout(client_for, leader, district, figures):
    Target.objects.create(unit=district, year=2026, metric="bcci_return_rate", value=Decimal("30"))
    response = client_for(leader).get(
        reverse("reports:export", args=["weekly", "xlsx"]), {"unit": district.pk, "week": "2026-W12"}
    )
    assert response.status_code == 200
    assert 'filename="bao-cao-tuan-2026-W12.xlsx"' in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert "Huyện Bố Trạch (cũ)" in sheet["A2"].value
    assert "Tuần 12/2026 (16/03/2026 – 22/03/2026)" in sheet["A3"].value
    headers = [c.value for c in sheet[6]]
    table = {
        row[1]: dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=7, values_only=True)
    }
    hoan_lao = table["Xã Hoàn Lão"]
    assert (hoan_lao["Trả kết quả"], hoan_lao["Trả kết quả qua BCCI"]) == (4, 3)
    assert hoan_lao["Tỷ lệ trả kết quả qua BCCI (%)"] == pytest.approx(0.75)
    total = table["Tổng cộng: Huyện Bố Trạch (cũ)"]
    assert total["Trả kết quả"] == 6
    assert total["Tỷ lệ trả kết quả qua BCCI (%)"] == pytest.approx(0.5)
    assert total["Tiếp nhận"] == 7  # 6 returned + the one nearly due
    # Each rate is followed by its target and the gap in points.
    bcci_col = headers.index("Tỷ lệ trả kết quả qua BCCI (%)")
    assert headers[bcci_col + 1 : bcci_col + 3] == ["Chỉ tiêu (%)", "Chênh lệch (điểm %)"]
    total_line = next(r for r in sheet.iter_rows(min_row=7, values_only=True) if r[1].startswith("Tổng cộng"))
    assert total_line[bcci_col + 1] == pytest.approx(0.30)
    assert total_line[bcci_col + 2] == pytest.approx(20.0)
    assert total["Tỷ lệ phát đúng chỉ tiêu J+n (%)"] == "—"


def test_year_to_date_csv(client_for, leader, district, figures):
    response = client_for(leader).get(reverse("reports:export", args=["ytd", "csv"]), {"unit": district.pk})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[2] == ["Kỳ báo cáo", "Từ 29/12/2025 đến 22/03/2026"]
    table = {row[1]: row for row in rows[5:]}
    assert table["Xã Bố Trạch"][2] == "3"  # received: 2 returned + 1 nearly due
    assert "—" in table["Xã Bố Trạch"]


def test_exports_refuse_bad_weeks_and_other_roles(client_for, leader, official, district):
    url = reverse("reports:export", args=["weekly", "xlsx"])
    response = client_for(leader).get(url, {"week": "2026-W54"})
    assert response.status_code == 400
    assert "không có tuần 54" in response.content.decode()
    assert client_for(leader).get(reverse("reports:export", args=["monthly", "xlsx"])).status_code == 404
    assert client_for(official).get(url).status_code == 403


def test_exports_page_lists_the_files(client_for, leader, district):
    html = client_for(leader).get(reverse("reports:exports")).content.decode()
    assert "Báo cáo tuần 2026-W12 – Huyện Bố Trạch (cũ) (XLSX)" in html


# --- recomputation and freshness --------------------------------------------------------------


def test_leader_asks_for_a_recomputation_and_sees_its_progress(client_for, leader, district, figures):
    client = client_for(leader)
    response = client.post(
        reverse("reports:recompute"),
        {"unit": district.pk, "week": "2026-W12"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Đã tính lại số liệu." in html
    run = ComputationRun.objects.get()
    assert (run.status, run.weeks_done, run.weeks_total) == ("done", 12, 12)
    fragment = client.get(reverse("reports:run_status", args=[run.pk])).content.decode()
    assert "Lần tính lại gần nhất xong lúc 18/03/2026 10:00" in fragment
    assert "hx-trigger" not in fragment  # finished: polling stops


def test_a_running_computation_is_polled(client_for, leader, province_leader, db):
    run = ComputationRun.objects.create(
        first_week=date(2026, 3, 2),
        last_week=THIS_WEEK,
        weeks_total=3,
        weeks_done=1,
        status="running",
        requested_by=leader,
    )
    fragment = client_for(leader).get(reverse("reports:run_status", args=[run.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "1/3 tuần" in fragment
    # Another leader's request is not theirs to watch.
    assert client_for(province_leader).get(reverse("reports:run_status", args=[run.pk])).status_code == 404


def test_with_redis_down_the_dashboard_works_and_the_request_is_kept(
    client_for, leader, district, figures, broker_configured, monkeypatch
):

    def broker_down(run_id):
        raise OSError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(runs, "_send", broker_down)
    client = client_for(leader)
    response = client.post(
        reverse("reports:recompute"), {"unit": district.pk, "week": "2026-W12"}, follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Chưa gửi được yêu cầu tính lại vì hàng đợi xử lý đang gián đoạn" in html
    assert "số liệu đang hiển thị được tính lúc 18/03/2026 10:00" in html
    assert 'data-testid="week-bcci_return_rate">50,0 %<' in html
    assert ComputationRun.objects.get().status == "pending"


def test_officials_cannot_ask_for_recomputation(client_for, official):
    response = client_for(official).post(reverse("reports:recompute"), {"week": "2026-W12"})
    assert response.status_code == 403
    assert not ComputationRun.objects.exists()


def test_menu_entries_per_role(client_for, leader, official, postal_staff):
    leader_home = client_for(leader).get(reverse("accounts:home")).content.decode()
    assert all(
        url in leader_home for url in (DASHBOARD, reverse("reports:targets"), reverse("reports:exports"))
    )
    official_home = client_for(official).get(reverse("accounts:home")).content.decode()
    assert DASHBOARD in official_home and reverse("reports:targets") not in official_home
    assert DASHBOARD not in client_for(postal_staff).get(reverse("accounts:home")).content.decode()


def test_freshness_is_shown_for_a_week_with_nothing_to_count(client_for, leader, district):
    # A past week nobody computed says so.
    html = client_for(leader).get(DASHBOARD, {"week": "2026-W05"}).content.decode()
    assert "Số liệu kỳ này chưa được tính." in html
    # On the embedded default (no worker) the week in progress is counted when it is read.
    html = client_for(leader).get(DASHBOARD).content.decode()
    assert 'data-state="fresh"' in html
    assert "Số liệu tính lúc 10:00:00 18/03/2026 (cách đây 0 giây)." in html


def test_administrator_without_a_unit_sees_the_province_with_figures(client_for, administrator, figures):
    html = client_for(administrator).get(DASHBOARD).content.decode()
    assert "Bảng điều hành: Quảng Trị" in html
    assert "Phường Đông Hà" in html  # every commune of the province is ranked
