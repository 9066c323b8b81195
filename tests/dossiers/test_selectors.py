from __future__ import annotations

import pytest
from django.http import Http404

from dossiers.selectors import dossier_for_user_or_404, dossiers_visible_to


@pytest.fixture
def two_dossiers(log_dossier, other_commune, other_official):
    mine = log_dossier()
    theirs = log_dossier(by=other_official, receiving_unit=other_commune)
    return mine, theirs


def test_official_sees_only_their_commune(two_dossiers, official):
    mine, theirs = two_dossiers
    assert list(dossiers_visible_to(official)) == [mine]
    assert dossier_for_user_or_404(official, mine.pk) == mine
    with pytest.raises(Http404):
        dossier_for_user_or_404(official, theirs.pk)


def test_leader_sees_the_communes_of_their_district(two_dossiers, leader):
    assert set(dossiers_visible_to(leader)) == set(two_dossiers)


def test_postal_staff_see_the_communes_their_office_serves(two_dossiers, postal_staff, other_postal_staff):
    mine, theirs = two_dossiers
    assert list(dossiers_visible_to(postal_staff)) == [mine]
    assert list(dossiers_visible_to(other_postal_staff)) == [theirs]


def test_leader_of_another_area_sees_nothing(two_dossiers, far_commune):
    from tests.conftest import make_user

    stranger = make_user("lanhdaokhac", "leader", unit=far_commune)
    assert not dossiers_visible_to(stranger).exists()


def test_administrator_sees_everything(two_dossiers, administrator):
    assert dossiers_visible_to(administrator).count() == 2
