"""Issue 14, item 4: the admin cannot be used to rebuild a personal number. For every model the
admin lists, every lookup that reaches a citizen's phone, identity number or lookup PIN — on the
model itself or through a relation — is refused, and no search box searches one."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import ForeignKey, OneToOneField
from django.urls import reverse

from dossiers.personal import PERSONAL_NUMBER_FIELDS, touches_personal_number

pytestmark = pytest.mark.django_db


def _personal_paths(model, depth: int = 2, prefix: str = ""):
    """``applicant_phone``, ``dossier__applicant_phone``, … up to ``depth`` relations away."""
    for field in model._meta.get_fields():
        if field.name in PERSONAL_NUMBER_FIELDS:
            yield prefix + field.name
        elif depth and isinstance(field, ForeignKey | OneToOneField):
            yield from _personal_paths(field.related_model, depth - 1, f"{prefix}{field.name}__")


CASES = sorted(
    (f"{model._meta.app_label}.{model._meta.model_name}", path, suffix)
    for model in admin.site._registry
    for path in _personal_paths(model)
    for suffix in ("", "__startswith", "__exact", "__contains", "__regex")
)


def test_the_models_holding_personal_numbers_are_all_covered():
    models = {case[0] for case in CASES}
    assert {"dossiers.dossier", "postal.postalitem", "postal.pickupappointment"} <= models


@pytest.mark.parametrize(("model", "path", "suffix"), CASES)
def test_an_admin_filter_on_a_personal_number_is_refused(model, path, suffix, world, client):
    client.force_login(world["users"]["administrator"])
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    response = client.get(url, {f"{path}{suffix}": "0"})
    # Django answers a refused lookup with 400 (DisallowedModelAdminLookup); anything listing
    # rows would let the value be guessed digit by digit.
    assert response.status_code == 400, f"{model}: ?{path}{suffix}= answered {response.status_code}"


@pytest.mark.parametrize("model", sorted(admin.site._registry, key=str))
def test_no_admin_search_reaches_a_personal_number(model, rf, administrator):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = administrator
    searched = [f for f in model_admin.get_search_fields(request) if touches_personal_number(f.lstrip("^=@"))]
    assert not searched


def test_searching_the_dossier_list_by_a_phone_finds_nothing(world, client):
    client.force_login(world["users"]["administrator"])
    response = client.get(reverse("admin:dossiers_dossier_changelist"), {"q": "0912345678"})
    assert response.status_code == 200
    assert world["dossier"].code not in response.text
