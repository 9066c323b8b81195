import pytest
from django.core.management import call_command

from communes.models import AdministrativeUnit
from communes.services import define_district, load_official_units
from demo.communes import COMMUNE_CODES, DISTRICT_CODE

pytestmark = pytest.mark.django_db

Level = AdministrativeUnit.Level


def test_load_units_creates_34_provinces_and_3321_communes():
    call_command("load_units", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AdministrativeUnit.objects.filter(level=Level.PROVINCE).count() == 34
    assert AdministrativeUnit.objects.filter(level=Level.COMMUNE).count() == 3321
    hoan_lao = AdministrativeUnit.objects.get(code="19111")
    assert hoan_lao.name == "Xã Hoàn Lão"
    assert hoan_lao.parent.name == "Quảng Trị"
    assert hoan_lao.kind == AdministrativeUnit.Kind.COMMUNE


def test_second_run_changes_nothing():
    load_official_units()
    before = list(AdministrativeUnit.objects.order_by("code").values())
    result = load_official_units()
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3355)
    assert list(AdministrativeUnit.objects.order_by("code").values()) == before


def test_district_grouping_survives_a_reload():
    load_official_units()
    district = define_district(
        code=DISTRICT_CODE, name="Huyện Bố Trạch (cũ)", province_code="44", commune_codes=COMMUNE_CODES
    )
    assert district.children.count() == len(COMMUNE_CODES)
    result = load_official_units()
    assert result.updated == 0
    assert AdministrativeUnit.objects.get(code="19111").parent == district
    assert district.parent.code == "44"


def test_renamed_commune_is_updated():
    load_official_units()
    AdministrativeUnit.objects.filter(code="19111").update(name="Tên cũ")
    assert load_official_units().updated == 1
    assert AdministrativeUnit.objects.get(code="19111").name == "Xã Hoàn Lão"


def test_grouping_refuses_communes_of_another_province():
    load_official_units()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        define_district(code="X", name="X", province_code="44", commune_codes=["00004"])  # Hà Nội
    assert not AdministrativeUnit.objects.filter(code="X").exists()


def test_seed_demo_prints_a_login_for_every_role(capsys):
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", "--dossiers", "0", stdout=out)
    text = out.getvalue()
    for username in ("quantri", "canbo", "buudien", "quanlybd", "lanhdao"):
        assert username in text
    # Idempotent: a second run neither fails nor duplicates.
    call_command("seed_demo", "--dossiers", "0", stdout=StringIO())
    assert AdministrativeUnit.objects.filter(code=DISTRICT_CODE).count() == 1
