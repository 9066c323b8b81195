"""The API against real clients: a fake provincial one-stop system and a fake carrier talk to
the live server over HTTP on 127.0.0.1 and receive its webhooks on their own HTTP servers.

The provincial system pushes 10,000 dossiers in batches of 1,000 (one batch retried after a
client-side timeout, one pushed twice); the carrier pushes tracking events with duplicates,
out-of-order events and retries after timeouts. Nothing is lost or doubled, every webhook
verifies, and one commune's weekly figures equal those of a twin commune whose identical dossiers
and deliveries were entered through the services the screens use.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from api.clients import create_client
from api.models import CarrierEvent, WebhookDelivery
from communes.models import AdministrativeUnit, PostOffice
from dossiers import workflow
from dossiers.models import DeclineReason, Dossier, DossierEvent, ReturnChannel, Status
from dossiers.services import Intake, create_dossier
from dossiers.workdays import TZ
from postal import services as postal_services
from postal.models import DeliveryAttempt, PostalItem
from reports.models import COUNTERS, WeeklyRate
from reports.services import aggregation
from reports.weeks import week_of

from .fakes import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

TOTAL = 10_000
TWIN_COUNT = 150
BATCH = 1000
RETURN_CODES = {
    ReturnChannel.DESK: "tai_quay",
    ReturnChannel.ONLINE: "truc_tuyen",
    ReturnChannel.BCCI: "bcci",
}


class Neighbour:
    """A system that calls the API with its token and listens for webhooks."""

    def __init__(self, base_url: str, token: str, receiver: Receiver):
        self.base_url, self.token, self.receiver = base_url, token, receiver
        self.timeouts = 0

    def call(self, method: str, path: str, body=None, *, key: str | None = None, timeout: float = 30):
        started = time.monotonic()
        try:
            return self._call(method, path, body, key=key, timeout=timeout)
        finally:
            # The slowest answer so far sets the back-off after a timeout (see call_with_retry).
            self.slowest = max(getattr(self, "slowest", 0.0), time.monotonic() - started)

    def _call(self, method: str, path: str, body=None, *, key: str | None = None, timeout: float = 30):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def call_with_retry(self, method, path, body, *, key, first_timeout, back_off):
        """A client whose first try times out and that retries with the same key after backing
        off (long enough for the test server, whose SQLite connection serves one request at a
        time, to have finished the first try)."""
        try:
            return self.call(method, path, body, key=key, timeout=first_timeout)
        except (TimeoutError, urllib.error.URLError):
            self.timeouts += 1
            time.sleep(max(back_off, 3 * getattr(self, "slowest", 0.0)))
            return self.call(method, path, body, key=key)

    def subscribe(self, events: list[str]) -> None:
        status, body = self.call("POST", "/api/v1/webhooks", {"url": self.receiver.url, "events": events})
        assert status == 201, body
        self.receiver.secret = body["secret"]


def _local(moment: datetime) -> str:
    return moment.astimezone(TZ).strftime("%d/%m/%Y %H:%M")


def _history(rng: random.Random, now: datetime, bcci_share: float, channels: tuple[int, ...]) -> dict:
    """One dossier's life: received on a working hour of the last six weeks, perhaps finished and
    returned since (at most 4 days and 6 hours after receipt: received 5 days ago or earlier,
    nothing is in the future, whatever the time of day the test runs)."""
    day = (now - timedelta(days=rng.randint(5, 42))).astimezone(TZ)
    received = day.replace(
        hour=rng.randint(7, 16), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0
    )
    status = rng.choices(
        [Status.ACCEPTED, Status.PROCESSING, Status.FINISHED, Status.RETURNED], [1, 3, 4, 2]
    )[0]
    finished = received + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 5))
    returned = finished + timedelta(days=rng.randint(0, 1), hours=1)
    return_channel = (
        ReturnChannel.BCCI
        if rng.random() < bcci_share
        else rng.choice([ReturnChannel.DESK, ReturnChannel.ONLINE])
    )
    return {
        "received": received,
        "status": status,
        "finished": finished if status in (Status.FINISHED, Status.RETURNED) else None,
        "returned": returned if status == Status.RETURNED else None,
        "intake": rng.choice(channels),
        "return_channel": return_channel,
        "decline": "" if return_channel == ReturnChannel.BCCI else rng.choice(DeclineReason.values[:-1]),
        "name": f"Công dân {rng.randint(1, 99999)}",
    }


def _row(code: str, unit_code: str, life: dict) -> dict:
    return {
        "ma_ho_so": code,
        "ma_thu_tuc": "1.001193",
        "ma_don_vi": unit_code,
        "ho_ten_nguoi_nop": life["name"],
        "so_dien_thoai": "0912345678",
        "dia_chi": "Thôn 5",  # a result by post needs an address (dossiers.services)
        "kenh_tiep_nhan": life["intake"],
        "hinh_thuc_tra_ket_qua": RETURN_CODES[life["return_channel"]],
        "ly_do_khong_nhan_qua_bcci": life["decline"],
        "trang_thai": int(life["status"]),
        "ngay_tiep_nhan": _local(life["received"]),
        "ngay_ket_thuc_xu_ly": _local(life["finished"]) if life["finished"] else "",
        "ngay_tra_ket_qua": _local(life["returned"]) if life["returned"] else "",
    }


def _enter_through_services(unit, procedure, official, life: dict) -> Dossier:
    """The same dossier as a commune official enters it on the screens."""
    dossier = create_dossier(
        by=official,
        receiving_unit=unit,
        intake=Intake(
            procedure=procedure,
            applicant_name=life["name"],
            applicant_phone="0912345678",
            applicant_address="Thôn 5",
            intake_channel=life["intake"],
            return_channel=life["return_channel"],
            decline_reason=life["decline"],
            received_at=life["received"],
        ),
    )
    if life["status"] == Status.ACCEPTED:
        return dossier
    dossier = workflow.start_processing(dossier=dossier, by=official)
    if life["finished"]:
        dossier = workflow.finish(dossier=dossier, by=official, at=life["finished"])
    if life["returned"]:
        dossier = workflow.return_result(
            dossier=dossier, by=official, channel=life["return_channel"], at=life["returned"]
        )
    return dossier


def _send_to_post(dossiers, unit, office, official, postal_staff, at: datetime) -> list[PostalItem]:
    items = [postal_services.create_return_item(dossier=d, by=official, post_office=office) for d in dossiers]
    handover = postal_services.create_handover(
        by=official, direction="desk_to_post", desk_unit=unit, post_office=office
    )
    for item in items:
        postal_services.add_item_to_handover(handover=handover, by=official, code=item.code)
    postal_services.sign_handover(handover=handover, by=official, at=at)
    postal_services.sign_handover(handover=handover, by=postal_staff, at=at)
    return [PostalItem.objects.get(pk=item.pk) for item in items]


def _twin_unit(district) -> AdministrativeUnit:
    return AdministrativeUnit.objects.create(
        code="19999",
        name="Xã Song Sinh",
        level=AdministrativeUnit.Level.COMMUNE,
        kind=AdministrativeUnit.Kind.COMMUNE,
        parent=district,
        identifier="000.09.16.H44",
    )


def test_provincial_system_and_carrier_over_http(
    live_server,
    province,
    district,
    commune,
    other_commune,
    far_commune,
    procedure,
    post_office,
    district_post,
):
    from accounts.models import Role

    from ..conftest import make_user

    rng = random.Random(20261129)
    now = timezone.now()
    twin = _twin_unit(district)
    twin_office = PostOffice.objects.create(
        code="BDVHX-19999",
        name="BĐVHX Song Sinh",
        kind=PostOffice.Kind.CULTURAL,
        commune=twin,
        parent=district_post,
    )
    official = make_user("canbo-a", Role.COMMUNE_OFFICIAL, unit=commune)
    twin_official = make_user("canbo-b", Role.COMMUNE_OFFICIAL, unit=twin)
    staff = make_user("bd-a", Role.POSTAL_STAFF, post_office=post_office)
    twin_staff = make_user("bd-b", Role.POSTAL_STAFF, post_office=twin_office)
    _c, system_token = create_client(
        name="one-stop-44",
        unit=province,
        scopes=["dossiers:read", "dossiers:write", "reports:read", "webhooks:manage"],
        rate_per_minute=100_000,
    )
    _c, carrier_token = create_client(
        name="carrier",
        post_office=district_post,
        scopes=["items:write", "webhooks:manage"],
        rate_per_minute=100_000,
    )

    with Receiver() as system_hooks, Receiver() as carrier_hooks:
        system = Neighbour(live_server.url, system_token, system_hooks)
        carrier = Neighbour(live_server.url, carrier_token, carrier_hooks)
        system.subscribe(["dossier.status_changed", "dossier.result_ready"])
        carrier.subscribe(["item.status_changed"])

        # --- 10,000 dossiers, in batches; the commune under test gets TWIN_COUNT of them ----------
        lives: dict[str, dict] = {}
        rows = []
        units = [("19111", commune.identifier)] * TWIN_COUNT
        units += [(u.code, u.identifier or u.code) for u in (other_commune, far_commune)] * (
            (TOTAL - TWIN_COUNT) // 2
        )
        counters: dict[tuple[str, str], int] = {}
        for unit_code, prefix in units:
            is_twin = unit_code == "19111"
            life = _history(rng, now, 0.5 if is_twin else 0.3, (1, 2) if is_twin else (1, 2, 3))
            day = life["received"].strftime("%y%m%d")
            counters[(prefix, day)] = counters.get((prefix, day), 0) + 1
            code = f"{prefix}-{day}-{counters[(prefix, day)]:04d}"
            lives[code] = {**life, "unit": unit_code}
            rows.append(_row(code, unit_code, life))
        rng.shuffle(rows)
        started = time.monotonic()
        for number, start in enumerate(range(0, TOTAL, BATCH)):
            batch = {"dossiers": rows[start : start + BATCH]}
            key = str(uuid.uuid4())
            if number == 3:  # the system gives up waiting and sends the same batch again
                status, body = system.call_with_retry(
                    "POST", "/api/v1/dossiers:batch", batch, key=key, first_timeout=0.05, back_off=2.5
                )
            else:
                status, body = system.call("POST", "/api/v1/dossiers:batch", batch, key=key)
            assert status == 200, body
            assert body["created"] == len(batch["dossiers"]), body
        assert system.timeouts == 1
        # The first batch once more without a key (a nightly full resend): nothing changes.
        status, body = system.call("POST", "/api/v1/dossiers:batch", {"dossiers": rows[:BATCH]})
        assert (status, body["unchanged"], body["created"], body["updated"]) == (200, BATCH, 0, 0)
        push_seconds = time.monotonic() - started
        assert Dossier.objects.count() == TOTAL
        assert DossierEvent.objects.filter(action="dossier.api_created").count() == TOTAL
        assert DossierEvent.objects.filter(action="dossier.api_updated").count() == 0

        # --- the same dossiers of the commune under test, entered through the services --------------
        twin_lives = {code: life for code, life in lives.items() if life["unit"] == "19111"}
        twin_of: dict[str, Dossier] = {}
        for code, life in sorted(twin_lives.items(), key=lambda pair: pair[1]["received"]):
            twin_of[code] = _enter_through_services(twin, procedure, twin_official, life)

        # --- results handed to the post on both sides, then delivered -------------------------------
        handover_at = now - timedelta(hours=6)
        to_post = sorted(
            code
            for code, life in twin_lives.items()
            if life["status"] == Status.FINISHED
            and life["return_channel"] == ReturnChannel.BCCI
            and life["finished"] < handover_at
        )
        assert len(to_post) > 20
        items = _send_to_post(
            Dossier.objects.filter(code__in=to_post).order_by("code"),
            commune,
            post_office,
            official,
            staff,
            handover_at,
        )
        twin_items = _send_to_post(
            [twin_of[code] for code in to_post], twin, twin_office, twin_official, twin_staff, handover_at
        )

        events, plans = [], {}
        for index, item in enumerate(items):
            t = handover_at + timedelta(minutes=5 + index)
            stream = [
                {"event_id": f"{item.code}-1", "kind": "in_transit", "at": t.isoformat()},
                {
                    "event_id": f"{item.code}-2",
                    "kind": "out_for_delivery",
                    "at": (t + timedelta(hours=1)).isoformat(),
                },
            ]
            failed_first = index % 5 == 0
            if failed_first:
                stream.append(
                    {
                        "event_id": f"{item.code}-3",
                        "kind": "delivery_failed",
                        "reason": "not_home",
                        "at": (t + timedelta(hours=2)).isoformat(),
                    }
                )
                stream.append(
                    {
                        "event_id": f"{item.code}-4",
                        "kind": "out_for_delivery",
                        "at": (t + timedelta(hours=3)).isoformat(),
                    }
                )
            delivered_at = t + timedelta(hours=4)
            stream.append(
                {
                    "event_id": f"{item.code}-5",
                    "kind": "delivered",
                    "at": delivered_at.isoformat(),
                    "recipient": {"name": "Người nhận", "id_checked": True},
                }
            )
            plans[item.code] = (failed_first, t + timedelta(hours=2), delivered_at)
            if index % 4 == 1:  # out of order: the delivery is reported before the transit scans
                stream = [stream[-1], *stream[:-1]]
            if index % 3 == 0:  # duplicates: the carrier resends an event
                stream.insert(rng.randrange(len(stream) + 1), dict(stream[0]))
            events += [(item.code, event) for event in stream]
        timed_out = 0
        for number, (code, event) in enumerate(events):
            path = f"/api/v1/items/{code}/events"
            if number % 17 == 0:
                status, body = carrier.call_with_retry(
                    "POST", path, event, key=None, first_timeout=0.001, back_off=0.4
                )
            else:
                status, body = carrier.call("POST", path, event)
            assert status in (200, 201), (event, body)
        timed_out = carrier.timeouts

        # The twin's deliveries as postal staff record them on the screen.
        for item, twin_item in zip(items, twin_items, strict=True):
            failed_first, failed_at, delivered_at = plans[item.code]
            if failed_first:
                postal_services.record_delivery_attempt(
                    item=twin_item, by=twin_staff, outcome="not_home", at=failed_at
                )
            postal_services.record_delivery_attempt(
                item=twin_item,
                by=twin_staff,
                outcome="delivered",
                at=delivered_at,
                recipient_name="Người nhận",
                id_checked=True,
            )

        # --- nothing lost, nothing doubled ----------------------------------------------------------
        distinct_events = {event["event_id"] for _code, event in events}
        assert CarrierEvent.objects.count() == len(distinct_events)
        assert set(
            PostalItem.objects.filter(pk__in=[i.pk for i in items]).values_list("status", flat=True)
        ) == {"delivered"}
        # A failed attempt reported after the delivery is stale: kept, not recorded as an attempt.
        failures = sum(1 for index, item in enumerate(items) if plans[item.code][0] and index % 4 != 1)
        assert DeliveryAttempt.objects.filter(item__in=items).count() == len(items) + failures
        assert Dossier.objects.filter(code__in=to_post, status=Status.RETURNED).count() == len(to_post)
        assert timed_out >= 1

        # Webhooks: each status change the system did not make itself, once, verified.
        assert not system_hooks.rejected and not carrier_hooks.rejected
        assert len(system_hooks.ids) == len(set(system_hooks.ids))
        returned = [
            m["data"]["code"]
            for m in system_hooks.of_type("dossier.status_changed")
            if m["data"]["to_status"] == 10
        ]
        assert sorted(code for code in returned if code in twin_lives) == to_post
        expected = DossierEvent.objects.exclude(action__startswith="dossier.api_").filter(
            to_status__isnull=False
        )
        expected = [e for e in expected if e.from_status != e.to_status]
        assert len(system_hooks.of_type("dossier.status_changed")) == len(expected)
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
        deliveries = [
            m for m in carrier_hooks.of_type("item.status_changed") if m["data"]["to_status"] == "delivered"
        ]
        assert sorted(
            m["data"]["code"] for m in deliveries if m["data"]["code"] in {i.code for i in items}
        ) == sorted(i.code for i in items)

        # --- the weekly figures: API commune == twin commune ----------------------------------------
        first = week_of(min(life["received"] for life in twin_lives.values()))
        mondays = []
        monday = first
        while monday <= week_of(now):
            mondays.append(monday)
            monday += timedelta(weeks=1)
        aggregation.compute_weeks(mondays=mondays)
        api_rows = {
            r["week_start"]: r
            for r in WeeklyRate.objects.filter(unit=commune).values("week_start", *COUNTERS)
        }
        twin_rows = {
            r["week_start"]: r for r in WeeklyRate.objects.filter(unit=twin).values("week_start", *COUNTERS)
        }
        for rows_of_unit in (api_rows, twin_rows):
            for r in rows_of_unit.values():
                del r["week_start"]
        assert api_rows == twin_rows
        assert sum(r["received"] for r in api_rows.values()) == TWIN_COUNT
        assert sum(r["items_delivered"] for r in api_rows.values()) == len(items)
        # And upward reporting reads the same through the API.
        status, figures = system.call(
            "GET", f"/api/v1/weekly-rates?unit=19111&from={mondays[0]:%G-W%V}&to={mondays[-1]:%G-W%V}"
        )
        assert status == 200 and figures["total"]["counts"]["received"] == TWIN_COUNT
        _s, twin_figures = system.call(
            "GET", f"/api/v1/weekly-rates?unit=19999&from={mondays[0]:%G-W%V}&to={mondays[-1]:%G-W%V}"
        )
        assert figures["total"]["counts"] == twin_figures["total"]["counts"]
        assert figures["total"]["rates"] == twin_figures["total"]["rates"]
    print(f"\n10,000 dossiers pushed in {push_seconds:.1f} s; {len(events)} carrier events")
