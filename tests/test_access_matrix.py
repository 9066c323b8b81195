"""Every URL of the project, for every role, an anonymous visitor and a user of another unit or
post office: the answer is the one the design says (302 to login, 403, 404 or 200).

A URL pattern without an entry in ACCESS makes this test fail, so no page ships unreviewed.
The admin site is checked for every registered model (changelist and add page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

ANON, OFFICIAL, OTHER_OFFICIAL = "anonymous", "official", "other_official"
POSTAL, OTHER_POSTAL, MANAGER, LEADER, ADMIN = (
    "postal_staff",
    "other_postal_staff",
    "post_manager",
    "leader",
    "administrator",
)
ROLES = (ANON, OFFICIAL, OTHER_OFFICIAL, POSTAL, OTHER_POSTAL, MANAGER, LEADER, ADMIN)
SIGNED_IN = tuple(r for r in ROLES if r != ANON)


@dataclass(frozen=True)
class Access:
    expect: dict[str, int]
    args: Callable[[dict], list] = field(default=lambda world: [])
    query: str = ""


def everyone(code: int = 200) -> dict[str, int]:
    return dict.fromkeys(ROLES, code)


def signed_in(code: int = 200, **overrides: int) -> dict[str, int]:
    """Anonymous visitors go to the login page; signed-in roles get `code` unless overridden."""
    return {ANON: 302, **dict.fromkeys(SIGNED_IN, code), **overrides}


ACCESS: dict[str, Access] = {
    "healthz": Access(everyone()),
    "javascript-catalog": Access(everyone()),
    # POST only: a GET is refused without changing anything.
    "set_language": Access(everyone(302)),
    "accounts:home": Access(signed_in()),
    "accounts:login": Access({ANON: 200, **dict.fromkeys(SIGNED_IN, 302)}),
    "accounts:logout": Access(everyone(405)),
    "communes:unit_list": Access(signed_in()),
    # The official's own commune: others outside it get 404, never a hint that it exists.
    "communes:unit_detail": Access(
        signed_in(200, **{OTHER_OFFICIAL: 404, OTHER_POSTAL: 404}), args=lambda w: [w["commune"].pk]
    ),
}


def _patterns(resolvers, namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else f"{namespace}<unnamed {entry.pattern}>"


URL_NAMES = sorted(set(_patterns(get_resolver().url_patterns)))


@pytest.fixture
def world(
    commune,
    other_commune,
    post_office,
    other_post_office,
    official,
    other_official,
    postal_staff,
    other_postal_staff,
    post_manager,
    leader,
    administrator,
):
    return {
        "commune": commune,
        "other_commune": other_commune,
        "post_office": post_office,
        "other_post_office": other_post_office,
        "users": {
            OFFICIAL: official,
            OTHER_OFFICIAL: other_official,
            POSTAL: postal_staff,
            OTHER_POSTAL: other_postal_staff,
            MANAGER: post_manager,
            LEADER: leader,
            ADMIN: administrator,
        },
    }


def test_every_url_pattern_has_an_access_entry():
    missing = [name for name in URL_NAMES if name not in ACCESS]
    assert not missing, f"add these URL names to ACCESS in {__file__}: {missing}"
    stale = [name for name in ACCESS if name not in URL_NAMES]
    assert not stale, f"ACCESS names URLs that no longer exist: {stale}"


@pytest.mark.parametrize("url_name", URL_NAMES)
def test_each_role_gets_the_designed_answer(url_name, world, client):
    access = ACCESS[url_name]
    url = reverse(url_name, args=access.args(world)) + access.query
    answers = {}
    for role in ROLES:
        client.logout()
        if role != ANON:
            client.force_login(world["users"][role])
        answers[role] = client.get(url).status_code
    assert answers == {role: access.expect[role] for role in ROLES}


ADMIN_MODELS = sorted(f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry)


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_pages_are_for_administrators_only(model, world, client):
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    for role in ROLES:
        client.logout()
        if role != ANON:
            client.force_login(world["users"][role])
        response = client.get(url)
        if role == ADMIN:
            assert response.status_code == 200, model
        else:
            assert response.status_code == 302 and "/admin/login/" in response.url, (model, role)
