"""The demo network tells the story: gaps, repairs, combined desks, actions in every status."""

from io import StringIO

import pytest
from django.db.models import Q
from django.utils import timezone

from communes.models import NetworkAction, NetworkActionEvent, PostOffice
from demo import communes as demo

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(PostOffice.objects.order_by("code").values()),
        list(NetworkAction.objects.order_by("id").values()),
        NetworkActionEvent.objects.count(),
    )


def test_the_demo_network_is_plausible_and_seeding_twice_changes_nothing():
    demo.seed(options={}, stdout=StringIO())
    first = snapshot()
    demo.seed(options={}, stdout=StringIO())
    assert snapshot() == first

    cultural = PostOffice.objects.filter(
        kind=PostOffice.Kind.CULTURAL, commune__parent__code=demo.DISTRICT_CODE
    )
    assert sorted(cultural.values_list("code", flat=True)) == sorted(demo.CULTURAL_OFFICE_CODES)
    # The codes other apps' demo data relies on.
    assert (
        PostOffice.objects.filter(code__in=[demo.DISTRICT_POST_CODE, "BDVHX-19111", "BDVHX-19141"]).count()
        == 3
    )
    # Gaps: communes of the district without a BĐVHX.
    without = {c for c in demo.COMMUNE_CODES if not cultural.filter(commune__code=c).exists()}
    assert without == set(demo.GAP_COMMUNE_CODES)
    assert cultural.filter(condition__in=["needs_repair", "degraded"]).count() >= 3
    assert cultural.filter(premises=PostOffice.Premises.NONE).exists()
    assert 2 <= cultural.filter(combined_with_desk=True).count() <= 4
    with_coordinates = PostOffice.objects.filter(latitude__isnull=False)
    assert with_coordinates.count() >= 0.8 * PostOffice.objects.count()
    for office in with_coordinates:
        assert abs(float(office.latitude) - 17.5) < 0.5 and abs(float(office.longitude) - 106.4) < 0.5

    actions = NetworkAction.objects.all()
    assert set(actions.values_list("status", flat=True)) == set(NetworkAction.Status.values)
    overdue = actions.filter(status__in=NetworkAction.OPEN_STATUSES, due_date__lt=timezone.localdate())
    assert overdue.count() >= 2
    assert actions.filter(post_office__isnull=True, commune__code__in=demo.GAP_COMMUNE_CODES).exists()
    for action in actions.filter(Q(status="done")):
        assert action.completed_on >= timezone.localdate(action.created_at)
        assert list(action.events.values_list("to_status", flat=True)) == ["planned", "in_progress", "done"]
