"""Network fixtures on top of tests/conftest.py: an office needing repair, a post manager of
another network, and a quick way to record actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from communes import services
from communes.models import NetworkAction, PostOffice
from tests.conftest import make_user


@pytest.fixture
def repair_office(post_office):
    """The BĐVHX of Xã Hoàn Lão, with a leaking roof."""
    post_office.condition = PostOffice.Condition.NEEDS_REPAIR
    post_office.floor_area_m2 = 36
    post_office.save()
    return post_office


@pytest.fixture
def far_post(far_commune):
    """Another network: the post office of Phường Đông Hà, outside the district grouping."""
    return PostOffice.objects.create(
        code="BC-DONGHA", name="Bưu cục Đông Hà", kind=PostOffice.Kind.POST_OFFICE, commune=far_commune
    )


@pytest.fixture
def far_manager(far_post):
    return make_user("quanlydh", Role.POST_MANAGER, post_office=far_post)


@pytest.fixture
def record_action(post_manager):
    """Record an action as the post manager: ``record_action(office=..., kind=...)``."""

    def record(*, office=None, commune=None, kind=NetworkAction.Kind.REPAIR, due_in=30, by=None):
        return services.network_action_create(
            by=by or post_manager,
            kind=kind,
            post_office=office,
            commune=commune,
            responsible=NetworkAction.Responsible.POST,
            due_date=timezone.localdate() + timedelta(days=due_in),
            notes="Mái tôn dột",
        )

    return record
