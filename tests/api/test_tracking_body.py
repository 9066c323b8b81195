"""A tracking event's body is checked without building the serializer when it is plain; the
outcome is always the serializer's own: the same validated data, or the same refusal."""

from __future__ import annotations

import copy

import pytest
from django.utils import translation
from rest_framework.exceptions import ValidationError

from api.serializers import TrackingEventSerializer, tracking_event_data

AT = "2026-03-13T08:00:00+07:00"
DELIVERED = {
    "event_id": "evt-1",
    "kind": "delivered",
    "at": AT,
    "recipient": {"name": "Nguyễn Văn An", "id_checked": True},
}

BODIES = [
    {"event_id": "evt-1", "kind": "in_transit", "at": AT},
    {
        "event_id": "  evt-1 ",
        "kind": "out_for_delivery",
        "at": "2026-03-13T01:00:00Z",
        "note": "  ở bưu cục ",
    },
    {"event_id": "evt-1", "kind": "in_transit", "at": "2026-03-13T08:00:00"},  # no offset: local time
    {"event_id": "evt-1", "kind": "in_transit", "at": "2026-03-13 08:00:00.123456+07:00"},
    {"event_id": "evt-1", "kind": "delivery_failed", "at": AT, "reason": "not_home"},
    {"event_id": "evt-1", "kind": "delivery_failed", "at": AT, "reason": "absent"},
    {"event_id": "evt-1", "kind": "delivery_failed", "at": AT, "reason": "delivered"},
    {"event_id": "evt-1", "kind": "delivery_failed", "at": AT, "reason": ""},
    {"event_id": "evt-1", "kind": "delivery_failed", "at": AT, "reason": None},
    DELIVERED,
    {
        **DELIVERED,
        "recipient": {
            "name": " An ",
            "id_checked": False,
            "is_proxy": True,
            "proxy_authorisation": " GUQ 1 ",
        },
    },
    {**DELIVERED, "recipient": {"name": "An", "id_checked": "true"}},
    {**DELIVERED, "recipient": {"name": "An", "id_checked": 1, "is_proxy": "no"}},
    {**DELIVERED, "recipient": {"name": "", "id_checked": True}},
    {**DELIVERED, "recipient": {"name": "A" * 151, "id_checked": True}},
    {**DELIVERED, "recipient": {"name": "An", "id_checked": True, "extra": 1}},
    {**DELIVERED, "recipient": {"name": "An"}},
    {**DELIVERED, "recipient": {"name": "An", "id_checked": True, "proxy_authorisation": None}},
    {**DELIVERED, "recipient": "An"},
    {**DELIVERED, "recipient": None},
    {"event_id": "x" * 100, "kind": "in_transit", "at": AT},
    {"event_id": "x" * 101, "kind": "in_transit", "at": AT},
    {"event_id": "", "kind": "in_transit", "at": AT},
    {"event_id": "   ", "kind": "in_transit", "at": AT},
    {"event_id": 12345, "kind": "in_transit", "at": AT},
    {"event_id": True, "kind": "in_transit", "at": AT},
    {"event_id": "a\x00b", "kind": "in_transit", "at": AT},
    {"event_id": "a\tb", "kind": "in_transit", "at": AT},
    {"event_id": "a\ud800b", "kind": "in_transit", "at": AT},
    {"event_id": "evt-1", "kind": "teleported", "at": AT},
    {"event_id": "evt-1", "kind": ["in_transit"], "at": AT},
    {"event_id": "evt-1", "kind": "in_transit", "at": "yesterday"},
    {"event_id": "evt-1", "kind": "in_transit", "at": "2026-13-40T08:00:00+07:00"},
    {"event_id": "evt-1", "kind": "in_transit", "at": "2026-03-13"},
    {"event_id": "evt-1", "kind": "in_transit", "at": 1773363600},
    {"event_id": "evt-1", "kind": "in_transit", "at": None},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "note": "n" * 200},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "note": "n" * 201},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "note": ""},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "note": "dòng 1\ndòng 2"},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "note": None},
    {"event_id": "evt-1", "kind": "in_transit", "at": AT, "carrier": "VNPost"},
    {"kind": "in_transit", "at": AT},
    {"event_id": "evt-1", "at": AT},
    {},
    [],
    ["evt-1"],
    "evt-1",
    None,
]


def _by_serializer(body):
    serializer = TrackingEventSerializer(data=copy.deepcopy(body))
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "refused", serializer.errors


def _by_function(body):
    try:
        data = tracking_event_data(copy.deepcopy(body))
    except ValidationError as error:
        return "refused", error.detail
    return "valid", dict(data)


def _plain(value):
    """Validated data with nested OrderedDicts as dicts, errors as plain strings and codes."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "code"):
        return (str(value), value.code)
    return value


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_serializers_own_outcome(body, language):
    with translation.override(language):
        expected = _by_serializer(body)
        found = _by_function(body)
    assert _plain(found) == _plain(expected)
    if found[0] == "valid":
        assert list(found[1]) == list(expected[1])  # the same keys, defaults included
        assert found[1]["at"].tzinfo is not None


def test_a_refusal_in_the_api_is_the_serializers_problem(api_for, carrier):
    answer = api_for(carrier[1]).post(
        "/api/v1/items/EB123456785VN/events", {"event_id": "x" * 101, "kind": "teleported", "at": AT}
    )
    assert answer.status_code == 400
    body = answer.json()
    assert body["type"].endswith("/invalid-body")
    assert {error["field"] for error in body["errors"]} == {"event_id", "kind"}


def test_plain_bodies_do_not_build_the_serializer(monkeypatch):
    import api.serializers

    def refuse(*args, **kwargs):
        raise AssertionError("the serializer was built")

    monkeypatch.setattr(api.serializers, "TrackingEventSerializer", refuse)
    plain = [BODIES[0], BODIES[1], BODIES[2], BODIES[4], DELIVERED, BODIES[10]]
    assert plain[3]["reason"] == "not_home" and plain[5]["recipient"]["is_proxy"]
    for body in plain:
        assert tracking_event_data(copy.deepcopy(body))["event_id"] == body["event_id"].strip()
