"""With a streaming replica, the dashboard reads its figures there, writes stay on the primary,
and what it shows is right once the replica has replayed the primary's changes (the lag).

Needs a real replica: .ci/run starts one on 127.0.0.1:5433 from the CI primary and sets
POSTDESK_TEST_REPLICA_URL. The rest of the suite reads from the primary."""

from __future__ import annotations

import copy
import os
import time
from datetime import date
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.replica import REPLICA, ReplicaRouter, primary_reads, replica_reads
from dossiers.models import Dossier
from reports.models import WeeklyRate
from reports.services.aggregation import compute_weeks
from tests.reports.conftest import dossier, local

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REPLICA_URL = os.environ.get("POSTDESK_TEST_REPLICA_URL", "")
needs_replica = pytest.mark.skipif(
    not REPLICA_URL or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL and a streaming replica (POSTDESK_TEST_REPLICA_URL); .ci/run starts one",
)
NOW = local(2026, 3, 18, 10)
THIS_WEEK = date(2026, 3, 16)


@pytest.fixture
def replica(transactional_db, settings):
    """The ``replica`` database: the real replica, on the test database the primary streams."""
    parts = urlsplit(REPLICA_URL)
    replica_settings = copy.deepcopy(connection.settings_dict)
    # One connection for the whole test, opened here: the test case allows only the databases it
    # declares to connect later, and the replica cannot be one (it would be flushed).
    replica_settings.update(
        HOST=parts.hostname, PORT=str(parts.port or 5432), CONN_MAX_AGE=None, CONN_HEALTH_CHECKS=False
    )
    connections.settings[REPLICA] = replica_settings
    connections[REPLICA].connect()
    settings.DATABASE_ROUTERS = ["core.replica.ReplicaRouter"]
    try:
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def caught_up(replica_connection, timeout: float = 30) -> float:
    """Wait until the replica has replayed everything the primary wrote; the seconds it took."""
    with connection.cursor() as cursor:
        # The insert position, not the write position: the weekly job commits without waiting
        # for the flush (synchronous_commit off), so its commit record may not be written yet.
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        target = cursor.fetchone()[0]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with replica_connection.cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def returned_by_post(procedure, unit):
    at = local(2026, 3, 17)
    return dossier(
        procedure, unit, received_at=at, status=10, finished_at=at, returned_at=at,
        timeliness="on_time", return_channel="bcci",
    )  # fmt: skip


@needs_replica
def test_the_dashboard_reads_the_replica_and_is_right_once_it_has_replayed(
    replica, client_for, leader, procedure, commune, broker_configured
):
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True  # a real standby, not the primary again
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(WeeklyRate) == REPLICA
        assert router.db_for_write(WeeklyRate) == "default"
        with primary_reads():
            assert router.db_for_read(WeeklyRate) == "default"
    client = client_for(leader)

    with time_machine.travel(NOW, tick=True):
        Dossier.objects.bulk_create([returned_by_post(procedure, commune) for _ in range(2)])
        compute_weeks(mondays=[THIS_WEEK])
        lag = caught_up(replica)
        with CaptureQueriesContext(replica) as on_replica:
            html = client.get(reverse("reports:dashboard")).content.decode()
        assert 'data-testid="week-bcci_return_rate">100,0 %<' in html
        assert any("reports_weeklyrate" in query["sql"] for query in on_replica.captured_queries)

        # A desk return on the primary: recounted there, shown once the replica has replayed it.
        Dossier.objects.bulk_create([dossier(procedure, commune, **_desk_return())])
        compute_weeks(mondays=[THIS_WEEK])
        lag = max(lag, caught_up(replica))
        html = client.get(reverse("reports:dashboard")).content.decode()
        assert 'data-testid="week-bcci_return_rate">66,7 %<' in html
    assert lag < 10, f"replication lag {lag:.2f} s"


def _desk_return() -> dict:
    at = local(2026, 3, 17, 11)
    return {
        "received_at": at, "status": 10, "finished_at": at, "returned_at": at,
        "timeliness": "on_time", "return_channel": "desk", "decline_reason": "fee",
    }  # fmt: skip


def test_without_a_replica_every_read_stays_on_the_primary():
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(WeeklyRate) == "default"
    assert router.allow_migrate(REPLICA, "reports") is False
    assert router.allow_migrate("default", "reports") is True
