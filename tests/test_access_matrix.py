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
    # For POST-only URLs: what the users who must be refused get when they POST.
    post: dict[str, int] = field(default_factory=dict)
    # The API column: what each machine client's token gets on GET (API URLs only).
    api: dict[str, int] = field(default_factory=dict)


def answers(default: int, **overrides: int) -> dict[str, int]:
    """Anonymous visitors go to the login page; every signed-in role gets `default` unless
    overridden (keys are the role names above)."""
    return {ANON: 302, **dict.fromkeys(SIGNED_IN, default), **overrides}


def everyone(code: int = 200) -> dict[str, int]:
    return dict.fromkeys(ROLES, code)


def obj(key: str) -> Callable[[dict], list]:
    return lambda world: [world[key].pk]


# Shapes that recur: readable by everyone in scope (the other commune/office gets 404) …
IN_SCOPE = answers(200, other_official=404, other_postal_staff=404)
# … by the network editors only (post managers, administrators) …
EDITORS = answers(403, post_manager=200, administrator=200)
# … by the desk only (commune officials, administrators).
DESK = answers(403, official=200, other_official=200, administrator=200)
# POST-only: GET is 405 for everyone (require_POST answers first), and refusals on POST.
POST_ONLY = everyone(405)
REFUSED_POSTAL_POST = {ANON: 302, OFFICIAL: 403, LEADER: 403, OTHER_POSTAL: 404}
REFUSED_DESK_POST = {ANON: 302, LEADER: 403, OTHER_OFFICIAL: 404, OTHER_POSTAL: 404}
# API clients (tokens): the official's commune with every scope, the other commune with every
# scope, a carrier for the postal staff's office (items:write), and the official's commune with
# webhooks:manage only.
CLIENT, OTHER_CLIENT, CARRIER, NARROW = "client", "other_client", "carrier", "narrow_client"
API_CLIENTS = (CLIENT, OTHER_CLIENT, CARRIER, NARROW)
# Anonymous visitors of the API get 401 (no login page); sessions may read, never write.
API_READ = {ANON: 401, **dict.fromkeys(SIGNED_IN, 200)}
API_POST_ONLY = {ANON: 401, **dict.fromkeys(SIGNED_IN, 405)}
API_SESSION_REFUSED = {ANON: 401, **dict.fromkeys(SIGNED_IN, 403)}

ACCESS: dict[str, Access] = {
    "healthz": Access(everyone()),
    "javascript-catalog": Access(everyone()),
    "tracking:track": Access(everyone()),  # public, rate-limited, no personal data
    "set_language": Access(everyone(302)),  # a GET just goes back
    "accounts:home": Access(answers(200)),
    "accounts:login": Access({ANON: 200, **dict.fromkeys(SIGNED_IN, 302)}),
    "accounts:logout": Access(POST_ONLY),
    # Units and the post office network.
    "communes:unit_list": Access(answers(200)),
    "communes:unit_detail": Access(IN_SCOPE, obj("commune")),
    "communes:network": Access(answers(403, post_manager=200, leader=200, administrator=200)),
    "communes:gap_list": Access(answers(200)),
    "communes:office_list": Access(answers(200)),
    "communes:office_export": Access(answers(200)),
    "communes:office_detail": Access(IN_SCOPE, obj("post_office")),
    "communes:office_create": Access(EDITORS),
    "communes:office_update": Access(EDITORS, obj("post_office")),
    "communes:office_import": Access(EDITORS),
    "communes:action_list": Access(answers(200)),
    "communes:action_detail": Access(IN_SCOPE, obj("action")),
    "communes:action_create": Access(EDITORS),
    "communes:action_update": Access(EDITORS, obj("action")),
    "communes:action_complete": Access(EDITORS, obj("action")),
    "communes:action_cancel": Access(EDITORS, obj("action")),
    "communes:action_start": Access(
        answers(403, post_manager=405, administrator=405),
        obj("action"),
        post={ANON: 302, OFFICIAL: 403, LEADER: 403, POSTAL: 403},
    ),
    # Dossiers.
    "dossiers:list": Access(answers(200)),
    "dossiers:export_csv": Access(answers(200)),
    "dossiers:export_xlsx": Access(answers(200)),
    "dossiers:detail": Access(IN_SCOPE, obj("dossier")),
    "dossiers:receipt": Access(IN_SCOPE, obj("dossier")),
    "dossiers:receipt_pdf": Access(IN_SCOPE, obj("dossier")),
    "dossiers:edit": Access({**DESK, OTHER_OFFICIAL: 404}, obj("dossier")),
    "dossiers:refusal": Access(IN_SCOPE, obj("refused_dossier")),
    "dossiers:refusal_pdf": Access(IN_SCOPE, obj("refused_dossier")),
    "dossiers:supplement": Access(IN_SCOPE, lambda w: [w["dossier"].pk, w["supplement"].pk]),
    "dossiers:supplement_pdf": Access(IN_SCOPE, lambda w: [w["dossier"].pk, w["supplement"].pk]),
    "dossiers:apology": Access(IN_SCOPE, obj("dossier")),
    "dossiers:apology_pdf": Access(IN_SCOPE, obj("dossier")),
    "dossiers:create": Access(DESK),
    "dossiers:intake_preview": Access(DESK),
    "dossiers:intake_documents": Access(DESK),
    "dossiers:import_upload": Access(DESK),
    "dossiers:import_template": Access(DESK),
    "dossiers:import_detail": Access({**DESK, OTHER_OFFICIAL: 404}, obj("job")),
    "dossiers:import_status": Access({**DESK, OTHER_OFFICIAL: 404}, obj("job")),
    # The job is waiting: its owner is sent back to it with a message; others are refused.
    "dossiers:import_restart": Access(
        POST_ONLY,
        obj("job"),
        post={ANON: 302, OFFICIAL: 302, OTHER_OFFICIAL: 404, POSTAL: 403, LEADER: 403, ADMIN: 302},
    ),
    "dossiers:action": Access(
        {**DESK, OTHER_OFFICIAL: 404},
        lambda w: [w["dossier"].pk, "return_result"],
        post={ANON: 302, OTHER_OFFICIAL: 404, POSTAL: 403, LEADER: 403},
    ),
    # Postal work.
    "postal:scan": Access(answers(200, official=403, other_official=403, leader=403)),
    "postal:deliveries": Access(answers(200, official=403, other_official=403, leader=403)),
    "postal:intake_create": Access(answers(200, official=403, other_official=403, leader=403)),
    "postal:intake_slip": Access(IN_SCOPE, obj("intake_item")),
    "postal:item_detail": Access(IN_SCOPE, obj("item")),
    "postal:item_move": Access(POST_ONLY, obj("item"), post=REFUSED_POSTAL_POST),
    "postal:item_attempt": Access(POST_ONLY, obj("item"), post=REFUSED_POSTAL_POST),
    "postal:item_label": Access(IN_SCOPE, obj("item")),
    "postal:item_label_pdf": Access(IN_SCOPE, obj("item")),
    # Proofs of delivery: only the office and the desk (this attempt has none: 404 for them).
    "postal:attempt_proof": Access(
        answers(403, official=404, other_official=404, postal_staff=404, other_postal_staff=404),
        lambda w: [w["item"].pk, w["attempt"].pk, "signature"],
    ),
    # The installable postal app: public shell files, the day's pages for postal roles.
    "postal:manifest": Access(everyone()),
    "postal:service_worker": Access(everyone()),
    "postal:offline": Access(everyone()),
    "postal:offline_pages": Access(answers(200, official=403, other_official=403, leader=403)),
    "postal:return_item_create": Access({**DESK, OTHER_OFFICIAL: 404}, obj("dossier")),
    "postal:handover_list": Access(answers(200)),
    "postal:handover_create": Access(answers(200, leader=403)),
    "postal:handover_detail": Access(IN_SCOPE, obj("handover")),
    "postal:handover_print": Access(IN_SCOPE, obj("handover")),
    "postal:handover_pdf": Access(IN_SCOPE, obj("handover")),
    "postal:handover_add_line": Access(POST_ONLY, obj("handover"), post=REFUSED_DESK_POST),
    "postal:handover_sign": Access(POST_ONLY, obj("handover"), post=REFUSED_DESK_POST),
    "postal:handover_line": Access(
        POST_ONLY, lambda w: [w["handover"].pk, w["line"].pk], post=REFUSED_DESK_POST
    ),
    "postal:appointment_list": Access(answers(200, leader=403)),
    "postal:appointment_create": Access(answers(200, leader=403)),
    "postal:appointment_mark": Access(
        POST_ONLY, obj("appointment"), post={ANON: 302, LEADER: 403, OTHER_POSTAL: 404}
    ),
    "postal:transfer_matrix": Access(answers(403, post_manager=200, leader=200, administrator=200)),
    "postal:transfer_create": Access(answers(403, post_manager=200, leader=200, administrator=200)),
    "postal:transfer_detail": Access(
        answers(403, post_manager=200, leader=200, administrator=200), obj("transfer")
    ),
    # Showing a phone or identity number: the receiving desk and the post office handling an
    # item of the dossier; everyone else in scope 403, outside 404 (privacy/rules.py).
    "privacy:reveal_dossier": Access(
        POST_ONLY,
        lambda w: [w["dossier"].pk, "phone"],
        post={ANON: 302, OTHER_OFFICIAL: 404, OTHER_POSTAL: 404, MANAGER: 403, LEADER: 403, ADMIN: 403},
    ),
    "privacy:reveal_item": Access(
        POST_ONLY,
        obj("item"),
        post={ANON: 302, OTHER_OFFICIAL: 404, OTHER_POSTAL: 404, MANAGER: 403, LEADER: 403, ADMIN: 403},
    ),
    "privacy:reveal_appointment": Access(
        POST_ONLY,
        obj("appointment"),
        post={ANON: 302, OTHER_OFFICIAL: 404, OTHER_POSTAL: 404, MANAGER: 403, LEADER: 403, ADMIN: 403},
    ),
    # Reports.
    "reports:dashboard": Access(answers(200, postal_staff=403, other_postal_staff=403, post_manager=403)),
    "reports:run_status": Access(
        answers(403, official=404, other_official=404, leader=200, administrator=200), obj("run")
    ),
    "reports:recompute": Access(
        answers(403, leader=405, administrator=405), post={ANON: 302, OFFICIAL: 403, POSTAL: 403}
    ),
    "reports:targets": Access(answers(403, leader=200, administrator=200)),
    "reports:exports": Access(answers(403, leader=200, administrator=200)),
    "reports:export": Access(answers(403, leader=200, administrator=200), lambda w: ["weekly", "xlsx"]),
    # Citizens' links from their messages: public, the token is the key (no personal data shown).
    "notify:rate": Access(everyone(), lambda w: [w["rating"].token]),
    "notify:stop": Access(everyone(), lambda w: [w["stop_token"]]),
    # A commune official closes a low rating's follow-up (leaders only read it on their home).
    "notify:close_follow_up": Access(
        POST_ONLY,
        obj("follow_up"),
        post={ANON: 302, OTHER_OFFICIAL: 404, POSTAL: 403, OTHER_POSTAL: 403, MANAGER: 403, LEADER: 403},
    ),
    # API v1 (docs/api.md): the schema and its docs are public; data needs a token or a session.
    "api:schema": Access(everyone(), api=dict.fromkeys(API_CLIENTS, 200)),
    "api:docs": Access(everyone(), api=dict.fromkeys(API_CLIENTS, 200)),
    "api:dossier_list": Access(API_READ, api={CLIENT: 200, OTHER_CLIENT: 200, CARRIER: 403, NARROW: 403}),
    "api:dossier": Access(
        {**API_READ, OTHER_OFFICIAL: 404, OTHER_POSTAL: 404},
        lambda w: [w["dossier"].code],
        api={CLIENT: 200, OTHER_CLIENT: 404, CARRIER: 403, NARROW: 403},
    ),
    "api:dossier_batch": Access(
        API_POST_ONLY, post={ANON: 401, OFFICIAL: 403, ADMIN: 403}, api=dict.fromkeys(API_CLIENTS, 405)
    ),
    "api:item_events": Access(
        API_POST_ONLY,
        lambda w: [w["item"].code],
        post={ANON: 401, POSTAL: 403, MANAGER: 403},
        api=dict.fromkeys(API_CLIENTS, 405),
    ),
    # Without ?unit= the answer is 404 for whoever may read reports.
    "api:weekly_rates": Access(
        {**API_SESSION_REFUSED, OFFICIAL: 404, OTHER_OFFICIAL: 404, LEADER: 404, ADMIN: 404},
        api={CLIENT: 404, OTHER_CLIENT: 404, CARRIER: 403, NARROW: 403},
    ),
    "api:subscription_list": Access(
        API_SESSION_REFUSED, api={CLIENT: 200, OTHER_CLIENT: 200, CARRIER: 403, NARROW: 200}
    ),
    "api:subscription": Access(
        API_SESSION_REFUSED,
        obj("subscription"),
        api={CLIENT: 200, OTHER_CLIENT: 404, CARRIER: 403, NARROW: 404},
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
    """One object of every kind, owned by the official's commune and postal_staff's office."""
    from datetime import date, timedelta

    from django.utils import timezone

    from communes.models import NetworkAction
    from dossiers.models import (
        Dossier,
        Extension,
        ImportJob,
        Procedure,
        ProcedureField,
        Status,
        SupplementRequest,
    )
    from postal.models import (
        DeliveryAttempt,
        Handover,
        HandoverLine,
        PickupAppointment,
        PostalItem,
        TaskTransfer,
    )
    from reports.models import ComputationRun

    now = timezone.now()
    field = ProcedureField.objects.create(code="TP", name="Tư pháp")
    procedure = Procedure.objects.create(
        national_code="1.001193", name="Đăng ký khai sinh", field=field, processing_days=3
    )
    dossier = Dossier.objects.create(
        code="000.01.16.H44-261120-0001",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Nguyễn Văn An",
        applicant_phone="0912345678",
        tracking_pin="123456",
        return_channel="bcci",
        status=Status.FINISHED,
        received_at=now - timedelta(days=5),
        due_date=date.today(),
        original_due_date=date.today(),
        finished_at=now - timedelta(days=1),
        timeliness="early",
    )
    Extension.objects.create(
        dossier=dossier,
        issued_at=now - timedelta(days=2),
        issued_by=official,
        reason="Chờ xác minh",
        previous_due_date=date.today() - timedelta(days=1),
        new_due_date=date.today(),
    )
    item = PostalItem.objects.create(
        code="EB123456785VN", dossier=dossier, direction="return", post_office=post_office
    )
    intake_dossier = Dossier.objects.create(
        code="000.01.16.H44-261120-0002",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Trần Văn Bình",
        tracking_pin="654321",
        intake_channel=3,
        return_channel="bcci",
    )
    intake_item = PostalItem.objects.create(
        code="RR123456785VN", dossier=intake_dossier, direction="intake", post_office=post_office
    )
    handover = Handover.objects.create(
        number="BB-000001",
        direction=Handover.Direction.DESK_TO_POST,
        desk_unit=commune,
        post_office=post_office,
        prepared_by=official,
    )
    line = HandoverLine.objects.create(handover=handover, item=item)
    attempt = DeliveryAttempt.objects.create(item=item, at=now, outcome="not_home", by=postal_staff)
    appointment = PickupAppointment.objects.create(
        citizen_name="Lê Thị Bình",
        citizen_phone="0987654321",
        address="Thôn 2",
        commune=commune,
        procedure=procedure,
        post_office=post_office,
        slot_start=now + timedelta(days=1),
        slot_end=now + timedelta(days=1, hours=1),
        assigned_to=postal_staff,
        created_by=postal_staff,
    )
    transfer = TaskTransfer.objects.create(
        unit=commune, field=field, task=TaskTransfer.Task.INTAKE, planned_date=date(2026, 12, 31)
    )
    action = NetworkAction.objects.create(
        kind="repair",
        commune=commune,
        post_office=post_office,
        responsible="post",
        due_date=date(2026, 12, 31),
        created_by=post_manager,
    )
    run = ComputationRun.objects.create(
        requested_by=leader, first_week=date(2026, 11, 16), last_week=date(2026, 11, 16)
    )
    job = ImportJob.objects.create(original_name="hoso.csv", created_by=official)
    from notify.models import FollowUp, Rating
    from notify.services import stop_token

    rating = Rating.objects.create(
        dossier=dossier,
        token="rate-token-1",
        unit=commune,
        expires_at=now + timedelta(days=30),
        stars=1,
        answered_at=now,
    )
    follow_up = FollowUp.objects.create(rating=rating, unit=commune)
    supplement = SupplementRequest.objects.create(
        dossier=dossier, requested_at=now - timedelta(days=4), requested_by=official, items="Bản sao"
    )
    refused_dossier = Dossier.objects.create(
        code="000.01.16.H44-261120-0003",
        procedure=procedure,
        receiving_unit=commune,
        applicant_name="Đỗ Văn Cường",
        tracking_pin="111222",
        status=Status.REFUSED,
        received_at=now - timedelta(days=3),
        finished_at=now - timedelta(days=3),
    )
    from api.clients import create_client
    from api.models import Scope, WebhookSubscription

    api_client, client_token = create_client(name="matrix-commune", unit=commune, scopes=Scope.values)
    _other, other_token = create_client(name="matrix-other", unit=other_commune, scopes=Scope.values)
    _carrier, carrier_token = create_client(
        name="matrix-carrier", post_office=post_office, scopes=["items:write"]
    )
    _narrow, narrow_token = create_client(name="matrix-narrow", unit=commune, scopes=["webhooks:manage"])
    subscription = WebhookSubscription.objects.create(
        client=api_client, url="https://hethong.example.org/hooks", events=["dossier.status_changed"]
    )
    return {
        "rating": rating,
        "follow_up": follow_up,
        "stop_token": stop_token(dossier.pk),
        "supplement": supplement,
        "refused_dossier": refused_dossier,
        "subscription": subscription,
        "tokens": {
            CLIENT: client_token,
            OTHER_CLIENT: other_token,
            CARRIER: carrier_token,
            NARROW: narrow_token,
        },
        "job": job,
        "intake_item": intake_item,
        "commune": commune,
        "other_commune": other_commune,
        "post_office": post_office,
        "other_post_office": other_post_office,
        "dossier": dossier,
        "item": item,
        "handover": handover,
        "line": line,
        "attempt": attempt,
        "appointment": appointment,
        "transfer": transfer,
        "action": action,
        "run": run,
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
    url = reverse(url_name, args=access.args(world))
    got = {}
    for role in ROLES:
        client.logout()
        if role != ANON:
            client.force_login(world["users"][role])
        got[role] = client.get(url).status_code
    assert got == {role: access.expect[role] for role in ROLES}
    posted = {}
    for role in access.post:
        client.logout()
        if role != ANON:
            client.force_login(world["users"][role])
        posted[role] = client.post(url, {}).status_code
    assert posted == access.post


API_URL_NAMES = [name for name in URL_NAMES if name.startswith("api:")]


@pytest.mark.parametrize("url_name", API_URL_NAMES)
def test_each_api_client_gets_the_designed_answer(url_name, world, client):
    access = ACCESS[url_name]
    assert access.api, f"{url_name} needs its API column"
    url = reverse(url_name, args=access.args(world))
    got = {
        name: client.get(url, HTTP_AUTHORIZATION=f"Bearer {world['tokens'][name]}").status_code
        for name in API_CLIENTS
    }
    assert got == access.api


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
