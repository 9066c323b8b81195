"""A task sent through the real broker is executed by a real worker process, not eagerly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.services

needs_broker = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL"),
    reason="needs CELERY_BROKER_URL (Redis); .ci/run sets it, the embedded default runs tasks eagerly",
)


@needs_broker
def test_task_runs_in_a_worker_over_redis(settings):
    from config.celery import app, ping

    assert not settings.CELERY_TASK_ALWAYS_EAGER
    queue = f"test-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--concurrency=1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "warning",
        ],
        cwd=BASE,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=60) == "pong"
        # Not eager: the result came back from the worker through the result backend.
        assert app.AsyncResult(result.id).state == "SUCCESS"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
