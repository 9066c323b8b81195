"""The network pages: who sees what (404 outside the scope, 403 for a role without the right),
filters in the database, and query counts that do not grow with the data."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communes import panels, services
from communes.models import NetworkAction, PostOffice, PostOfficeEvent

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"communes:{name}", args=args)


# --- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["official", "postal_staff", "post_manager", "leader", "administrator"])
def test_everyone_in_scope_reads_the_office(request, client_for, who, post_office):
    response = client_for(request.getfixturevalue(who)).get(url("office_detail", post_office.pk))
    assert response.status_code == 200
    assert "Bưu điện văn hóa xã Hoàn Lão" in response.text


@pytest.mark.parametrize("who", ["other_official", "other_postal_staff", "far_manager"])
def test_an_office_outside_the_scope_is_not_found(request, client_for, who, post_office):
    assert (
        client_for(request.getfixturevalue(who)).get(url("office_detail", post_office.pk)).status_code == 404
    )


def test_a_leader_does_not_see_offices_outside_the_district(client_for, leader, far_post):
    assert client_for(leader).get(url("office_detail", far_post.pk)).status_code == 404


def test_the_list_shows_only_offices_in_scope(client_for, official, post_office, other_post_office, far_post):
    text = client_for(official).get(url("office_list")).text
    assert "BDVHX-19111" in text
    assert "BDVHX-19141" not in text and "BC-DONGHA" not in text


@pytest.mark.parametrize("who", ["official", "postal_staff", "leader"])
@pytest.mark.parametrize("page", ["office_create", "office_import", "action_create"])
def test_roles_without_the_right_cannot_open_the_edit_pages(request, client_for, who, page):
    assert client_for(request.getfixturevalue(who)).get(url(page)).status_code == 403


@pytest.mark.parametrize("who", ["official", "postal_staff", "leader"])
def test_roles_without_the_right_cannot_edit_an_office(request, client_for, who, post_office):
    client = client_for(request.getfixturevalue(who))
    assert client.get(url("office_update", post_office.pk)).status_code == 403
    assert client.post(url("office_update", post_office.pk), {"name": "X"}).status_code == 403
    post_office.refresh_from_db()
    assert post_office.name == "Bưu điện văn hóa xã Hoàn Lão"


def test_a_post_manager_of_another_network_gets_404_on_edit(
    client_for, far_manager, post_office, record_action
):
    action = record_action(office=post_office)
    client = client_for(far_manager)
    assert client.get(url("office_update", post_office.pk)).status_code == 404
    assert client.get(url("action_detail", action.pk)).status_code == 404
    assert client.post(url("action_start", action.pk)).status_code == 404
    assert client.post(url("action_complete", action.pk), {"completed_on": "01/01/2026"}).status_code == 404
    action.refresh_from_db()
    assert action.status == NetworkAction.Status.PLANNED


@pytest.mark.parametrize("who, status", [("leader", 200), ("post_manager", 200), ("administrator", 200),
                                         ("official", 403), ("postal_staff", 403)])  # fmt: skip
def test_the_network_page_is_for_leaders_and_post_managers(request, client_for, who, status, post_office):
    assert client_for(request.getfixturevalue(who)).get(url("network")).status_code == status


def test_anonymous_visitors_are_sent_to_log_in(client, post_office):
    for page in (
        url("network"),
        url("office_list"),
        url("office_detail", post_office.pk),
        url("action_list"),
    ):
        response = client.get(page)
        assert response.status_code == 302 and "/login/" in response.url


def test_commune_officials_see_the_plan_for_their_commune_only(
    client_for, official, record_action, post_office, other_post_office
):
    mine = record_action(office=post_office)
    theirs = record_action(office=other_post_office, kind=NetworkAction.Kind.ENLARGE)
    client = client_for(official)
    response = client.get(url("action_list"))
    assert [a.pk for a in response.context["page"]] == [mine.pk]
    text = response.text
    assert client.get(url("action_detail", mine.pk)).status_code == 200
    assert client.get(url("action_detail", theirs.pk)).status_code == 404
    assert 'href="/network/actions/new/"' not in text  # reading only


def test_menu_entries_follow_the_roles(client_for, leader, official):
    leader_home = client_for(leader).get(reverse("accounts:home")).text
    assert "Mạng lưới" in leader_home and "Phương án củng cố mạng lưới" in leader_home
    official_home = client_for(official).get(reverse("accounts:home")).text
    assert f'href="{url("network")}"' not in official_home
    assert url("office_list") in official_home


# --- registry ------------------------------------------------------------------------------


def make_offices(district_post, commune, count, start=0):
    PostOffice.objects.bulk_create(
        PostOffice(
            code=f"DL-{start + i:04d}",
            name=f"Đại lý {start + i}",
            kind=PostOffice.Kind.AGENT,
            commune=commune,
            parent=district_post,
            condition=PostOffice.Condition.NEEDS_REPAIR if i % 2 else PostOffice.Condition.GOOD,
            combined_with_desk=bool(i % 3 == 0),
        )
        for i in range(count)
    )


def test_filters_run_in_the_database(client_for, post_manager, post_office, other_post_office):
    PostOffice.objects.filter(pk=other_post_office.pk).update(
        condition=PostOffice.Condition.NEEDS_REPAIR, combined_with_desk=True, offers_digitisation=True
    )
    client = client_for(post_manager)
    cases = {
        "condition=needs_repair": ["BDVHX-19141"],
        "combined=yes": ["BDVHX-19141"],
        "combined=no": ["BD-BT", "BDVHX-19111"],
        "service=digitisation": ["BDVHX-19141"],
        f"commune={post_office.commune_id}": ["BD-BT", "BDVHX-19111"],
        "status=closed": [],
        "q=hoàn lão": ["BDVHX-19111"],
    }
    for query, expected in cases.items():
        page = client.get(url("office_list") + "?" + query).context["page"]
        assert sorted(o.code for o in page) == expected, query


def test_a_foreign_commune_in_the_filter_is_ignored_not_leaked(
    client_for, official, post_office, far_commune
):
    response = client_for(official).get(url("office_list") + f"?commune={far_commune.pk}")
    # The official's commune also hosts the district post office.
    assert [o.code for o in response.context["page"]] == ["BD-BT", "BDVHX-19111"]


def test_the_registry_list_runs_the_same_queries_for_5_or_60_offices(
    client_for,
    post_manager,
    district_post,
    commune,
    django_assert_max_num_queries,
    record_action,
    post_office,
):
    client = client_for(post_manager)
    make_offices(district_post, commune, 5)
    record_action(office=post_office)
    client.get(url("office_list"))  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get(url("office_list") + "?condition=needs_repair")
    make_offices(district_post, commune, 55, start=100)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url("office_list") + "?condition=needs_repair")
    assert (
        response.context["page"].paginator.count
        == PostOffice.objects.filter(condition="needs_repair").count()
    )


def test_the_network_page_runs_the_same_queries_whatever_the_size(
    client_for, leader, district_post, commune, django_assert_max_num_queries, record_action, post_office
):
    client = client_for(leader)
    make_offices(district_post, commune, 3)
    client.get(url("network"))
    with django_assert_max_num_queries(20) as small:
        client.get(url("network"))
    make_offices(district_post, commune, 40, start=100)
    for _ in range(5):
        record_action(office=post_office, due_in=-3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url("network"))


def test_gap_communes_are_listed(client_for, leader, post_office, other_commune, district_post):
    # Xã Bố Trạch has only a postal agent and a closed BĐVHX: still a gap.
    PostOffice.objects.create(code="DL-1", name="Đại lý", kind=PostOffice.Kind.AGENT, commune=other_commune)
    PostOffice.objects.create(
        code="BDVHX-OLD", name="Điểm cũ", kind=PostOffice.Kind.CULTURAL, commune=other_commune,
        status=PostOffice.Status.CLOSED,
    )  # fmt: skip
    client = client_for(leader)
    gaps = client.get(url("gap_list")).context["page"]
    assert [c.name for c in gaps] == ["Xã Bố Trạch"]
    assert "1 xã chưa có BĐVHX" in client.get(url("office_list")).text


def test_a_post_manager_adds_an_office_and_the_history_names_them(
    client_for, post_manager, other_commune, district_post
):
    response = client_for(post_manager).post(
        url("office_create"),
        {
            "code": "BDVHX-19141-B",
            "name": "Điểm BĐVHX thôn Đại Phong",
            "kind": "cultural",
            "commune": other_commune.pk,
            "parent": district_post.pk,
            "status": "operating",
            "premises": "lent",
            "condition": "good",
            "floor_area_m2": "42,5",
            "latitude": "17,5463",
            "longitude": "106.4558",
            "staff_count": "1",
            "offers_bcci_intake": "on",
        },
    )
    office = PostOffice.objects.get(code="BDVHX-19141-B")
    assert response.status_code == 302 and response.url == url("office_detail", office.pk)
    assert str(office.floor_area_m2) == "42.5" and str(office.latitude) == "17.546300"
    assert office.events.get().actor == post_manager


def test_a_negative_floor_area_is_refused_in_vietnamese(client_for, post_manager, post_office):
    client = client_for(post_manager)
    form = client.get(url("office_update", post_office.pk)).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    data.update({"floor_area_m2": "-20", "name": "Tên mới"})
    response = client.post(url("office_update", post_office.pk), data)
    assert response.status_code == 200
    assert "Diện tích sàn phải lớn hơn 0 và không quá 10.000 m²." in response.text
    post_office.refresh_from_db()
    assert post_office.name == "Bưu điện văn hóa xã Hoàn Lão"
    assert not PostOfficeEvent.objects.exists()


def test_an_office_cannot_be_moved_to_a_commune_outside_the_scope(
    client_for, post_manager, post_office, far_commune
):
    client = client_for(post_manager)
    form = client.get(url("office_update", post_office.pk)).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    data["commune"] = far_commune.pk
    response = client.post(url("office_update", post_office.pk), data)
    assert response.status_code == 200
    assert "Lựa chọn không hợp lệ" in response.text or "Hãy chọn" in response.text
    post_office.refresh_from_db()
    assert post_office.commune_id != far_commune.pk


def test_the_export_has_the_import_columns_and_only_offices_in_scope(
    client_for, official, post_office, other_post_office
):
    from io import BytesIO

    from openpyxl import load_workbook

    from communes.spreadsheets import COLUMNS

    response = client_for(official).get(url("office_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][: len(COLUMNS)]) == [c.name for c in COLUMNS]
    assert [r[0] for r in rows[1:]] == ["BD-BT", "BDVHX-19111"]  # both in Xã Hoàn Lão
    assert rows[2][3] == "19111" and rows[2][4] == "BD-BT"


# --- plan ----------------------------------------------------------------------------------


def test_overdue_actions_stand_out(client_for, leader, record_action, post_office):
    record_action(office=post_office, due_in=-2)
    text = client_for(leader).get(url("action_list")).text
    assert "table-danger" in text and "Quá hạn" in text
    page = client_for(leader).get(url("action_list") + "?overdue=on").context["page"]
    assert len(page) == 1


def test_completing_through_the_page_updates_the_office(
    client_for, post_manager, record_action, repair_office
):
    action = record_action(office=repair_office)
    client = client_for(post_manager)
    form = client.get(url("action_complete", action.pk)).context["form"]
    assert form.initial["office_condition"] == "good"
    today = timezone.localdate()
    response = client.post(
        url("action_complete", action.pk),
        {"completed_on": today.strftime("%d/%m/%Y"), "office_condition": "good"},
    )
    assert response.status_code == 302
    repair_office.refresh_from_db()
    assert repair_office.condition == "good"


def test_a_completion_date_before_creation_is_shown_and_nothing_changes(
    client_for, post_manager, record_action, repair_office
):
    action = record_action(office=repair_office)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client_for(post_manager).post(
        url("action_complete", action.pk),
        {"completed_on": yesterday.strftime("%d/%m/%Y"), "office_condition": "good"},
    )
    assert response.status_code == 200
    assert "Ngày hoàn thành không thể trước ngày ghi nhận công việc" in response.text
    action.refresh_from_db()
    repair_office.refresh_from_db()
    assert action.status == "planned" and repair_office.condition == "needs_repair"


def test_recording_an_action_from_the_office_page(client_for, post_manager, repair_office):
    client = client_for(post_manager)
    form = client.get(url("action_create") + f"?post_office={repair_office.pk}").context["form"]
    assert form.initial["kind"] == "repair"
    due = (timezone.localdate() + timedelta(days=30)).strftime("%d/%m/%Y")
    response = client.post(
        url("action_create"),
        {
            "kind": "repair",
            "post_office": repair_office.pk,
            "responsible": "post",
            "due_date": due,
            "notes": "Mái dột",
        },
    )
    action = NetworkAction.objects.get()
    assert response.url == url("action_detail", action.pk)
    assert action.created_by == post_manager and action.commune == repair_office.commune


def test_a_repair_without_an_office_is_refused_on_the_form(client_for, post_manager, commune):
    due = (timezone.localdate() + timedelta(days=30)).strftime("%d/%m/%Y")
    response = client_for(post_manager).post(
        url("action_create"),
        {"kind": "repair", "commune": commune.pk, "responsible": "post", "due_date": due},
    )
    assert response.status_code == 200
    assert "phải gắn với một bưu cục đã có" in response.text
    assert not NetworkAction.objects.exists()


def test_cancelling_through_the_page_keeps_the_reason(client_for, post_manager, record_action, post_office):
    action = record_action(office=post_office)
    client = client_for(post_manager)
    assert client.post(url("action_cancel", action.pk), {"reason": ""}).status_code == 200
    client.post(url("action_cancel", action.pk), {"reason": "Trùng với dự án của tỉnh"})
    detail = client.get(url("action_detail", action.pk)).text
    assert "Đã hủy" in detail and "Trùng với dự án của tỉnh" in detail


def test_the_transfer_progress_slot_shows_a_registered_panel(
    client_for, leader, post_office, tmp_path, settings, monkeypatch
):
    # An empty registry of its own: the postal app's real panel is restored afterwards.
    monkeypatch.setattr(panels, "_registry", {})
    assert "Tiến độ chuyển giao nhiệm vụ" in client_for(leader).get(url("network")).text
    (tmp_path / "panel.html").write_text('<p data-testid="panel">{{ panel.done }}/{{ panel.total }}</p>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    panels.register(
        "transfer_progress", template_name="panel.html", context=lambda request: {"done": 3, "total": 8}
    )
    try:
        assert '<p data-testid="panel">3/8</p>' in client_for(leader).get(url("network")).text
    finally:
        panels.unregister("transfer_progress")
    with pytest.raises(ValueError):
        panels.register("elsewhere", template_name="x.html", context=dict)


def test_the_map_draws_offices_with_coordinates(client_for, leader, post_office, other_post_office):
    PostOffice.objects.filter(pk=post_office.pk).update(latitude=17.59, longitude=106.53)
    PostOffice.objects.filter(pk=other_post_office.pk).update(latitude=17.546, longitude=106.456)
    response = client_for(leader).get(url("network"))
    assert response.text.count("<circle") == 2
    assert 'cx="' in response.text and "," not in response.text.split('cx="')[1].split('"')[0]
    assert [o.code for o in response.context["map_offices"]] == ["BDVHX-19111", "BDVHX-19141"]


def test_services_and_views_agree_on_an_unchanged_form(client_for, post_manager, post_office):
    client = client_for(post_manager)
    form = client.get(url("office_update", post_office.pk)).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    assert client.post(url("office_update", post_office.pk), data).status_code == 302
    assert not post_office.events.exists()
    services.post_office_update(office=post_office, by=post_manager, data={"staff_count": 2})
    assert post_office.events.count() == 1
