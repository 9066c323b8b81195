"""Fresh within a minute, measured: 16 desk users log dossiers over HTTP while a leader polls
the district dashboard; the time from each intake's commit to the figure that counts it.

Called by bench/run.py (``freshness_figures``). Each configuration runs twice, with the
recount that follows writes switched off (``REPORTS_AUTO_REFRESH=false``: the intake cost
without freshness) and on, so the intake p95 of the two can be compared. Configurations:

- ``worker``: Redis broker (``BENCH_REDIS``, default db 3) with a Celery worker and beat;
- ``embedded``: the embedded default, no broker, no worker, no beat (the dashboard recounts).

The dossiers the run logs are deleted afterwards and the week recomputed, so a reused
database starts the next run in the same state.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import loadgen  # noqa: E402

PASSWORD = "PostDesk@2026"  # noqa: S105 - the demo logins' password (demo/accounts.py)
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")
DESK_USERS = 16
POLL_SECONDS = 2.0
RECEIVED = re.compile(
    rb'data-testid="week-bcci_intake_rate">[^<]*</div>\s*<div class="small text-body-secondary">(\d+)/(\d+)<'
)


def _celery(env, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", *args, "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _setup(database_url: str) -> dict:
    import psycopg

    with psycopg.connect(database_url) as conn:
        units = dict(
            conn.execute(
                "SELECT username, unit_id FROM accounts_user WHERE username IN ('canbo', 'canbo2', 'lanhdao')"
            )
        )
        procedure = conn.execute(
            "SELECT id FROM dossiers_procedure WHERE active AND processing_days > 0 ORDER BY id LIMIT 1"
        ).fetchone()[0]
        mark = conn.execute("SELECT coalesce(max(id), 0) FROM dossiers_dossier").fetchone()[0]
    return {"units": units, "procedure": procedure, "mark": mark}


def _restore(env, mark: int) -> None:
    """Remove the dossiers the run logged and count the week again without them."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        # Every table that refers to a dossier (events, documents, the notices an intake sends,
        # the portal sync queue...), read from the catalogue so a new one is not forgotten.
        references = conn.execute(
            "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)"
            " WHERE c.confrelid = 'dossiers_dossier'::regclass AND c.contype = 'f'"
        ).fetchall()
        for table, column in references:
            conn.execute(f'DELETE FROM {table} WHERE "{column}" > %s', [mark])  # noqa: S608
        conn.execute("DELETE FROM dossiers_dossier WHERE id > %s", [mark])
        conn.execute("DELETE FROM communes_dirtyweek")
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "compute_weekly_rates"],
        env={k: v for k, v in env.items() if k != "CELERY_BROKER_URL"},
        check=True,
        capture_output=True,
    )


def _process_tree(pids: list[int]) -> list[int]:
    """The processes and all their descendants (gunicorn's workers under its master)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found = list(pids)
    for pid in found:
        found += [child for child, parent in parents.items() if parent == pid and child not in found]
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes and their descendants, from /proc: what the web
    server (and the worker) spent, whatever else the machine runs."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in _process_tree(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15)
    return total


def _run(base: str, setup: dict, duration: float, *, wait_for_last: bool, pids: list[int]) -> dict:
    """Desk users and the leader's polls; commit times and the counts the leader saw."""
    host, port = base.removeprefix("http://").split(":")
    commits: list[float] = []
    latencies: list[float] = []
    errors = [0]
    polls: list[tuple[float, int]] = []
    base = [0]
    lock = threading.Lock()
    stop = threading.Event()
    ready = threading.Barrier(DESK_USERS + 2)

    def desk(index: int) -> None:
        username = "canbo" if index % 2 == 0 else "canbo2"
        session = loadgen.Session(host, int(port))
        session.login(username, PASSWORD)
        session.request("GET", "/dossiers/new/")
        form = {
            "procedure": setup["procedure"],
            "receiving_unit": setup["units"][username],
            "applicant_name": f"Người nộp thử {index}",
            "intake_channel": "1",
            "return_channel": "desk",
            "decline_reason": "in_person",
            "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0",
            "documents-MIN_NUM_FORMS": "0",
            "documents-MAX_NUM_FORMS": "40",
        }
        ready.wait()
        while not stop.is_set():
            started = time.perf_counter()
            try:
                status, _body = session.request("POST", "/dossiers/new/", form)
            except OSError:
                status = 0
            done = time.perf_counter()
            with lock:
                if status == 302:
                    commits.append(done)
                    latencies.append((done - started) * 1000)
                else:
                    errors[0] += 1
        session.close()

    def leader() -> None:
        session = loadgen.Session(host, int(port))
        session.login("lanhdao", PASSWORD)
        _status, body = session.request("GET", "/reports/")
        found = RECEIVED.search(body)
        base[0] = int(found.group(2)) if found else 0  # before any intake of the run
        ready.wait()
        while not stop.is_set():
            status, body = session.request("GET", "/reports/")
            found = RECEIVED.search(body) if status == 200 else None
            if found:
                with lock:
                    polls.append((time.perf_counter(), int(found.group(2))))
            stop.wait(POLL_SECONDS)
        # Keep polling after the writes stop, until the last intake shows (at most 2 minutes).
        deadline = time.perf_counter() + (120 if wait_for_last else 0)
        while time.perf_counter() < deadline:
            status, body = session.request("GET", "/reports/")
            found = RECEIVED.search(body) if status == 200 else None
            if found:
                polls.append((time.perf_counter(), int(found.group(2))))
                if polls[-1][1] >= base[0] + len(commits):
                    break
            time.sleep(POLL_SECONDS)
        session.close()

    threads = [threading.Thread(target=desk, args=(n,), daemon=True) for n in range(DESK_USERS)]
    threads.append(threading.Thread(target=leader, daemon=True))
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    cpu_before = _cpu_seconds(pids)
    time.sleep(duration)
    stop.set()
    for thread in threads[:-1]:
        thread.join(timeout=60)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds(pids) - cpu_before  # the writes' time, before the leader's last polls
    threads[-1].join(timeout=200)
    return {
        "seconds": seconds,
        "commits": sorted(commits),
        "latencies": latencies,
        "errors": errors[0],
        "polls": polls,
        "base": base[0],
        "cpu_seconds": cpu,
    }


def _visible_after(commits: list[float], polls: list[tuple[float, int]], base: int) -> list[float]:
    """For the k-th commit: seconds until the first poll after it whose count of the week's
    dossiers is at least ``base`` (the count before the run) + k."""
    delays = []
    for k, committed in enumerate(commits, start=1):
        seen = next((at for at, count in polls if at >= committed and count >= base + k), None)
        if seen is not None:
            delays.append(seen - committed)
    return delays


def freshness_figures(
    env: dict, *, start_server, duration: float = 30.0, modes=("worker", "embedded")
) -> dict:
    """``start_server(env, port)`` starts the web server (bench/run.py's gunicorn)."""
    figures: dict = {}
    for mode in modes:
        for auto in (False, True):
            run_env = {**env, "REPORTS_AUTO_REFRESH": "true" if auto else "false"}
            run_env.pop("CELERY_BROKER_URL", None)
            helpers = []
            if mode == "worker":
                run_env["CELERY_BROKER_URL"] = REDIS
                schedule = Path(tempfile.mkdtemp(prefix="postdesk-bench-")) / "beat-schedule"
                helpers = [
                    _celery(run_env, "worker", "--pool=solo", "--without-gossip", "--without-mingle"),
                    _celery(run_env, "beat", "--schedule", str(schedule)),
                ]
            setup = _setup(env["DATABASE_URL"])
            port = 8900 + random.randint(0, 90)
            server = start_server(run_env, port)
            try:
                pids = [server.pid, *(helper.pid for helper in helpers)]
                raw = _run(f"http://127.0.0.1:{port}", setup, duration, wait_for_last=auto, pids=pids)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
                for helper in helpers:
                    helper.send_signal(signal.SIGTERM)
                    helper.wait(timeout=30)
                _restore(env, setup["mark"])
            intake = raw["latencies"]
            entry = {
                "intakes": len(raw["commits"]),
                "intakes_per_second": round(len(raw["commits"]) / raw["seconds"], 1),
                "intake_p50_ms": round(loadgen.percentile(intake, 50), 1),
                "intake_p95_ms": round(loadgen.percentile(intake, 95), 1),
                "errors": raw["errors"],
                "polls": len(raw["polls"]),
                # Load-independent: CPU of the web workers (and the Celery worker and beat) per
                # intake over the writes, the leader's polls and the recounts included.
                "server_cpu_ms_per_intake": round(raw["cpu_seconds"] * 1000 / max(len(raw["commits"]), 1), 2),
            }
            if auto:
                delays = _visible_after(raw["commits"], raw["polls"], raw["base"])
                entry.update(
                    {
                        "shown": len(delays),
                        "commit_to_figure_p50_s": round(loadgen.percentile(delays, 50), 1),
                        "commit_to_figure_p95_s": round(loadgen.percentile(delays, 95), 1),
                        "commit_to_figure_max_s": round(max(delays), 1) if delays else None,
                    }
                )
            figures[f"{mode}_{'fresh' if auto else 'off'}"] = entry
    return figures
