import pytest
from django.urls import reverse

from communes import scoping
from communes.models import AdministrativeUnit

pytestmark = pytest.mark.django_db


def unit_page(unit):
    return reverse("communes:unit_detail", args=[unit.pk])


def test_official_sees_own_commune_page(client_for, official, commune):
    response = client_for(official).get(unit_page(commune))
    assert response.status_code == 200
    assert "Xã Hoàn Lão" in response.text


def test_official_of_another_commune_gets_404(client_for, other_official, commune):
    assert client_for(other_official).get(unit_page(commune)).status_code == 404


def test_leader_sees_every_unit_under_theirs(
    client_for, leader, district, commune, other_commune, far_commune
):
    client = client_for(leader)
    assert client.get(unit_page(commune)).status_code == 200
    assert client.get(unit_page(other_commune)).status_code == 200
    assert client.get(unit_page(district)).status_code == 200
    # Outside the district grouping, even in the same province.
    assert client.get(unit_page(far_commune)).status_code == 404
    assert scoping.unit_ids(leader) == {district.id, commune.id, other_commune.id}


def test_province_leader_sees_the_whole_tree(province_leader, province, district, commune, far_commune):
    assert scoping.unit_ids(province_leader) == {province.id, district.id, commune.id, far_commune.id}


def test_postal_staff_see_their_office_and_its_commune(postal_staff, post_office, commune, other_post_office):
    assert scoping.post_office_ids(postal_staff) == {post_office.id}
    assert scoping.unit_ids(postal_staff) == {commune.id}


def test_post_manager_sees_offices_under_theirs(
    post_manager, district_post, post_office, other_post_office, commune, other_commune
):
    assert scoping.post_office_ids(post_manager) == {district_post.id, post_office.id, other_post_office.id}
    assert scoping.unit_ids(post_manager) == {commune.id, other_commune.id}


def test_administrator_is_not_restricted(administrator):
    assert scoping.unit_ids(administrator) is None
    assert scoping.post_office_ids(administrator) is None


def test_unit_list_shows_only_scoped_units(client_for, official, commune, other_commune):
    response = client_for(official).get(reverse("communes:unit_list"))
    assert "Xã Hoàn Lão" in response.text
    assert "Xã Bố Trạch" not in response.text


def test_anonymous_visitor_is_sent_to_login(client, commune):
    response = client.get(unit_page(commune))
    assert response.status_code == 302
    assert "/login/" in response.url


def test_admin_site_is_for_administrators_only(client_for, official, administrator):
    assert client_for(official).get("/admin/").status_code == 302
    assert client_for(administrator).get("/admin/").status_code == 200


def test_post_manager_with_an_area_sees_communes_without_an_office(
    post_manager, district, commune, other_commune, far_commune
):
    no_office = AdministrativeUnit.objects.create(
        code="19147", name="Xã Thượng Trạch", level="commune", kind="xa", parent=district
    )
    post_manager.unit = district
    scoping.forget(post_manager)
    assert no_office.id in scoping.unit_ids(post_manager)
    assert far_commune.id not in scoping.unit_ids(post_manager)


def test_forget_drops_a_stale_scope(official, commune, other_commune):
    assert scoping.unit_ids(official) == {commune.id}
    official.unit = other_commune
    assert scoping.unit_ids(official) == {commune.id}  # cached for the request
    scoping.forget(official)
    assert scoping.unit_ids(official) == {other_commune.id}
