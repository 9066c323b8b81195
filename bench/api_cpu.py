"""CPU per carrier tracking event in one process, a figure the load on the machine hardly moves
(wall-clock p95 from bench/api_bench.py is what the targets are about; this says where it goes).

On the API bench's copy of the 1M database (API_BENCH_DB, default postdesk_api_1m, made by
bench/api_bench.py): the bench's clients and items (API_BENCH_ITEMS of them, 400 by default),
each item's in_transit, out_for_delivery and delivered events posted through the Django test
client with the middleware, then everything the run added removed again. Prints the statements
of one event of each kind, the CPU per event (time.process_time) overall and per kind, and with
``--profile`` the cProfile of the timed events.

    DATABASE_URL=postgres://…/postdesk_api_1m [API_BENCH_BROKER=redis://…/N] \
        .venv/bin/python bench/api_cpu.py [--profile]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("API_BENCH_ITEMS", "400")
# As in bench/api_bench.py: with no broker the tasks (the citizen's SMS) run in the request; with
# API_BENCH_BROKER=redis://…/N they are only queued, as in production (the queue is purged after).
BROKER = os.environ.get("API_BENCH_BROKER", "")
os.environ.pop("CELERY_BROKER_URL", None)
if BROKER:
    os.environ["CELERY_BROKER_URL"] = BROKER
from bench import api_bench  # noqa: E402
from bench.run import PG  # noqa: E402

KINDS = ("in_transit", "out_for_delivery", "delivered")
WARM_UP = 30


def plan(codes: list[str]) -> list[tuple[str, str, str]]:
    start = datetime.now().astimezone() - api_bench.EVENTS_FROM
    events = []
    for n, code in enumerate(codes):
        for step, kind in enumerate(KINDS):
            body = api_bench.event_body(code, kind, start + timedelta(seconds=n * 2 + step), step)
            events.append((kind, f"/api/v1/items/{code}/events", body))
    return events


def main() -> None:
    url = f"{PG}/{api_bench.TARGET}"
    before = api_bench.marks(url)
    prepared = api_bench.prepare()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {prepared['tokens']['bench-carrier']}"}

    def post(path, body):
        answer = client.post(path, body, content_type="application/json", **headers)
        assert answer.status_code in (200, 201), answer.content

    events = plan(prepared["items"])
    # CPU time, as the figures: waiting for PostgreSQL is not counted.
    profile = cProfile.Profile(time.process_time) if "--profile" in sys.argv else None
    try:
        for _kind, path, body in events[:WARM_UP]:
            post(path, body)
        for kind, path, body in events[WARM_UP : WARM_UP + 3]:
            with CaptureQueriesContext(connection) as queries:
                post(path, body)
            print(f"{kind}: {len(queries.captured_queries)} statements")
            for query in queries.captured_queries:
                print(f"    {query['sql'][:120]}")
        timed = events[WARM_UP + 3 :]
        per_kind: dict[str, list[float]] = {kind: [] for kind in KINDS}
        if profile:
            profile.enable()
        for kind, path, body in timed:
            started = time.process_time()
            post(path, body)
            per_kind[kind].append(time.process_time() - started)
        if profile:
            profile.disable()
    finally:
        connection.close()
        if BROKER:
            from celery import current_app

            current_app.control.purge()
        api_bench.restore(url, before)
    total = sum(sum(times) for times in per_kind.values())
    print(f"{len(timed)} events: {total / len(timed) * 1000:.2f} ms of CPU per event")
    for kind, times in per_kind.items():
        print(f"  {kind}: {sum(times) / len(times) * 1000:.2f} ms")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
