"""Reading the dashboard as a leader does: every link works, communes without data are not
ranked, the ranking pages, stocks are the period's end, the whole country for administrators."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse

from communes.models import AdministrativeUnit
from dossiers.models import Dossier
from reports import selectors
from reports.services.aggregation import compute_weeks
from tests.reports.conftest import dossier, local

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 18, 10)
THIS_WEEK = date(2026, 3, 16)
DASHBOARD = reverse("reports:dashboard")
Level = AdministrativeUnit.Level


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def returned(procedure, unit, *, bcci: bool, at=None):
    at = at or local(2026, 3, 17)
    return dossier(
        procedure,
        unit,
        received_at=at,
        status=10,
        finished_at=at,
        returned_at=at,
        timeliness="on_time",
        return_channel="bcci" if bcci else "desk",
        decline_reason="" if bcci else "fee",
    )


def links_of(html: str) -> set[str]:
    main = html.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in html else html
    hrefs = {unescape(h) for h in re.findall(r'href="([^"#]+)', main)}
    return {h for h in hrefs if not h.startswith(("http", "mailto:", "/static/"))}


@pytest.mark.parametrize("who", ["leader", "official", "administrator", "province_leader"])
def test_every_link_the_dashboard_renders_opens(who, request, client_for, procedure, commune, other_commune):
    user = request.getfixturevalue(who)
    Dossier.objects.bulk_create([returned(procedure, commune, bcci=True)])
    client = client_for(user)
    html = client.get(DASHBOARD).content.decode()
    links = links_of(html)
    if who in ("leader", "administrator", "province_leader"):
        assert reverse("postal:transfer_matrix") in links  # the task-transfer page, by its real name
    else:
        assert reverse("postal:transfer_matrix") not in links  # a commune official may not open it
    for href in sorted(links):
        url = href if href.startswith("/") else f"{DASHBOARD}{href}"
        response = client.get(url)
        assert response.status_code == 200, (href, response.status_code)


def test_communes_without_data_are_grouped_apart_and_never_ranked(
    client_for, leader, procedure, commune, other_commune, district
):
    Dossier.objects.bulk_create([returned(procedure, commune, bcci=False)])
    compute_weeks(mondays=[THIS_WEEK])
    html = client_for(leader).get(DASHBOARD).content.decode()
    ranked, unranked = html.split('id="ranking"')[1].split('id="without-data"')
    assert "Xã Hoàn Lão" in ranked and "0,0 %" in ranked  # returned at the desk: 0 %, ranked
    assert "Xã Bố Trạch" not in ranked
    assert "Chưa có số liệu: 1 xã chưa trả kết quả nào trong kỳ (không xếp hạng)" in unranked
    row = unranked.split("Xã Bố Trạch")[0].rsplit("<tr>", 1)[1]
    assert re.search(r"<td>\s*</td>", row), "no rank number for a commune without data"


def test_the_ranking_pages_over_many_communes(client_for, province_leader, procedure, province):
    communes = [
        AdministrativeUnit.objects.create(
            code=f"9{n:04d}", name=f"Xã Số {n:03d}", level=Level.COMMUNE, kind="xa", parent=province
        )
        for n in range(60)
    ]
    Dossier.objects.bulk_create(
        [returned(procedure, c, bcci=n % 3 == 0) for n, c in enumerate(communes)]
        + [returned(procedure, c, bcci=True) for c in communes[:10]]
    )
    compute_weeks(mondays=[THIS_WEEK])
    client = client_for(province_leader)
    first = client.get(DASHBOARD).content.decode()
    assert "Trang 1/2" in first
    ranked = first.split('id="ranking"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert ranked.count("<tr>") == selectors.RANKING_PAGE_SIZE
    second = client.get(DASHBOARD, {"rank_page": 2}).content.decode()
    ranked_second = second.split('id="ranking"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert ranked_second.count("<tr>") == 10  # 60 communes, all with a result returned
    assert re.search(r"<td>51</td>", ranked_second)


def test_year_to_date_shows_the_stock_at_the_period_end_not_a_sum(procedure, commune, district):
    # Open and overdue since January: counted at the end of every week since.
    Dossier.objects.bulk_create(
        [dossier(procedure, commune, received_at=local(2026, 1, 5), due_date=date(2026, 1, 8), status=4)]
    )
    weeks = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(11)]
    compute_weeks(mondays=weeks)
    ytd = selectors.period_counts(district, date(2025, 12, 29), THIS_WEEK)
    assert ytd["open_overdue"] == 1
    assert ytd["received"] == 1
    row = selectors.unit_rows([commune], date(2025, 12, 29), THIS_WEEK, 2026)[0]
    assert row.counts["open_overdue"] == 1


def test_weeks_read_as_people_say_them_with_previous_next_and_a_list(client_for, leader, district):
    html = client_for(leader).get(DASHBOARD, {"week": "2026-W11"}).content.decode()
    assert "Tuần 11/2026 (09/03–15/03)" in html
    assert "lũy kế: tuần 1–11/2026 theo tuần ISO, từ thứ Hai 29/12/2025" in html
    assert 'type="week"' not in html
    assert 'data-testid="previous-week"' in html and "week=2026-W10" in html
    assert 'data-testid="next-week"' in html and "week=2026-W12" in html
    assert '<option value="2026-W11" selected>Tuần 11/2026 (09/03–15/03)</option>' in html
    # The current week has no "next".
    assert 'data-testid="next-week"' not in client_for(leader).get(DASHBOARD).content.decode()


def test_the_whole_country_for_administrators_only(
    client_for, administrator, leader, procedure, commune, far_commune
):
    Dossier.objects.bulk_create(
        [returned(procedure, commune, bcci=True), returned(procedure, far_commune, bcci=False)]
    )
    compute_weeks(mondays=[THIS_WEEK])
    html = client_for(administrator).get(DASHBOARD, {"unit": "all"}).content.decode()
    assert "Toàn quốc" in html
    assert 'data-testid="week-bcci_return_rate">50,0 %<' in html
    assert "Xã Hoàn Lão" in html and "Phường Đông Hà" in html
    assert client_for(leader).get(DASHBOARD, {"unit": "all"}).status_code == 404
