"""Faults against real servers of the test's own: the app rides out a database restart."""

import json

import pytest

from tests.services.private import Gunicorn, PrivatePostgres, manage, service_env

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def private_postgres():
    server = PrivatePostgres()
    server.start()
    yield server
    server.cleanup()


def test_app_serves_again_after_postgres_restarts_without_its_own_restart(private_postgres):
    env = service_env(DATABASE_URL=private_postgres.url("postgres"), CELERY_BROKER_URL="")
    manage("migrate", "--noinput", env=env)
    web = Gunicorn(env, workers=1)
    try:
        status, body = web.get("/healthz")
        assert (status, json.loads(body)["database"]) == (200, "ok")
        private_postgres.stop()
        status, body = web.get("/healthz")
        assert (status, json.loads(body)["database"]) == (503, "down")
        private_postgres.restart()
        # The same gunicorn process, not restarted: persistent connections are health-checked.
        for _ in range(2):
            status, body = web.get("/healthz")
            assert (status, json.loads(body)["database"]) == (200, "ok")
        status, _ = web.get("/login/")
        assert status == 200
    finally:
        web.stop()
