"""`make bench`: build the benchmark databases and measure PostDesk at each size.

For each size N in SIZES (default "100000 1000000"): create the PostgreSQL database
``postdesk_scale_<N>`` if needed, migrate, load the units and ``seed_demo --dossiers N`` (timed:
the generator figure), then run bench/measure.py in a subprocess (server time, queries per page,
weekly job against the bare SQL, 100,000-row import), and the HTTP figures with bench/loadgen.py
against gunicorn with 2 workers on loopback (postal scan/update; 16 users on the dossier list).
Results go to bench/results/<N>.json (gitignored); the figures section of docs/performance.md
(between the "bench:figures" markers) is rewritten from every results file present.

Needs PostgreSQL reachable as BENCH_PG (default postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import loadgen  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "PostDesk@2026"  # noqa: S105 - the demo logins' password (accounts/demo.py)
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:figures begin -->", "<!-- bench:figures end -->"


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def ensure_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env, *args, capture=False):
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def seed(env, size: int) -> dict:
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_units", capture=True)
    started = time.perf_counter()
    out = manage(env, "seed_demo", "--dossiers", str(size), capture=True).stdout
    seconds = time.perf_counter() - started
    generated = re.search(r"Generated in [^\n]*", out)
    return {
        "seed_demo_seconds": round(seconds, 1),
        "generator": generated.group(0) if generated else "already there",
    }


def gunicorn(env, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            loadgen.Session("127.0.0.1", port).request("GET", "/healthz")
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def http_figures(env, duration: float) -> dict:
    import psycopg

    port = 8700 + random.randint(0, 200)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        office = conn.execute(
            "SELECT post_office_id FROM accounts_user WHERE username = 'buudien'"
        ).fetchone()[0]
        items = conn.execute(
            "SELECT id, code, status FROM postal_postalitem WHERE post_office_id = %s "
            "AND status IN ('out_for_delivery', 'delivery_failed', 'delivered') ORDER BY id DESC LIMIT 2000",
            [office],
        ).fetchall()
    movable = [(pk, status) for pk, _code, status in items if status != "delivered"]
    codes = [code for _pk, code, _status in items]
    state = dict(movable)

    def scan_step(session, i):
        if movable and i % 5 == 0:  # one update for four scans
            pk, _status = movable[i % len(movable)]
            target = "out_for_delivery" if state[pk] == "delivery_failed" else "delivery_failed"
            state[pk] = target
            return "POST", f"/postal/items/{pk}/move/", {"to_status": target}
        return "GET", f"/postal/scan/?code={codes[i % len(codes)]}", None

    def list_step(session, i):
        pages = [
            "/dossiers/",
            "/dossiers/?status=10",
            "/dossiers/?q=Nguy%E1%BB%85n",
            "/dossiers/?flag=overdue",
        ]
        return "GET", pages[i % len(pages)], None

    server = gunicorn(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        scan = loadgen.run(base, clients=8, step=scan_step, login=("buudien", PASSWORD), duration=duration)
        users = loadgen.run(base, clients=16, step=list_step, login=("lanhdao", PASSWORD), duration=duration)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {"scan_update": scan.summary(), "list_16_users": users.summary()}


def _ms(figure: dict | None, key: str) -> str:
    return "–" if not figure else f"{figure[key]:.0f} ms"


def render(result: dict) -> str:
    """The Markdown figures of one results file."""
    size, lines = result["size"], []
    load = ", ".join(f"{x:.1f}" for x in result.get("load_average_before", []))
    after = ", ".join(f"{x:.1f}" for x in result.get("load_average_after", []))
    lines += [
        f"### {size:,} dossiers ({result['date']}, load average {load} before the run, {after} after)",
        "",
        f"Generator (`seed_demo --dossiers {size}`): {result.get('generator', '–')}",
        "",
        "| measure (in-process) | requests | p50 | p95 | SQL queries |",
        "|---|---|---|---|---|",
    ]
    pages = result["list"]
    named = [
        ("list, status filter + name search, first page", pages["first_page"]),
        (f"list, same filter, deep page ({pages.get('deep_rows', 5000):,} rows down)", pages["deep_page"]),
        ("list, no filter", pages["unfiltered"]),
        ("leader dashboard", result["dashboard"]),
    ]
    for name, figure in named:
        if figure:
            queries = ", ".join(str(q) for q in figure["queries"])
            lines.append(
                f"| {name} | {figure['requests']} | {_ms(figure, 'p50_ms')} | "
                f"{_ms(figure, 'p95_ms')} | {queries} |"
            )
    weekly = result["weekly"]
    lines += [
        "",
        f"Weekly job: one week {weekly['one_week_job_ms']:.0f} ms (bare grouped SQL "
        f"{weekly['one_week_bare_sql_ms']:.0f} ms, best of 3); {weekly['weeks']} weeks "
        f"{weekly['many_weeks_job_ms'] / 1000:.2f} s (bare SQL, week by week, "
        f"{weekly['many_weeks_bare_sql_ms'] / 1000:.2f} s).",
    ]
    if result.get("import"):
        done = result["import"]
        lines += [
            "",
            f"Import of a {done['rows']:,}-row CSV: {done['seconds']:.1f} s, peak RSS "
            f"{done['peak_rss_mb']:.0f} MB, {done['created']:,} created.",
        ]
    lines += [
        "",
        "| over HTTP (gunicorn, 2 workers) | requests | req/s | p50 | p95 | errors |",
        "|---|---|---|---|---|---|",
    ]
    runs = (("postal scan/update, 8 clients", "scan_update"), ("dossier list, 16 users", "list_16_users"))
    for name, key in runs:
        figure = result.get(key)
        if figure:
            lines.append(
                f"| {name} | {figure['requests']} | {figure['rps']:.1f} | {_ms(figure, 'p50_ms')} | "
                f"{_ms(figure, 'p95_ms')} | {figure['errors']} |"
            )
    return "\n".join(lines) + "\n"


def write_doc() -> None:
    """Rewrite the generated figures of docs/performance.md from bench/results/*.json."""
    results = [json.loads(path.read_text()) for path in RESULTS.glob("*.json")]
    results = [result for result in results if "size" in result and "scan_update" in result]  # complete runs
    results.sort(key=lambda r: r["size"], reverse=True)
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        return
    body = "\n".join(render(result) for result in results)
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{body}\n{END}{tail}")


def main() -> None:
    if sys.argv[1:] == ["--doc"]:  # rewrite docs/performance.md from the results already there
        write_doc()
        return
    sizes = [int(s) for s in os.environ.get("SIZES", "100000 1000000").split()]
    duration = float(os.environ.get("BENCH_DURATION", "30"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        name = f"postdesk_scale_{label(size)}"
        ensure_database(name)
        env = {**os.environ, "DATABASE_URL": f"{PG}/{name}", "DEBUG": "false"}
        # A quick size stays quick: fewer timed requests, an import as large as the database.
        env.setdefault("BENCH_REQUESTS", "200" if size >= 100_000 else "30")
        env.setdefault("BENCH_IMPORT_ROWS", str(min(100_000, size)))
        result = {"size": size, "database": name, "date": datetime.now().isoformat(timespec="minutes")}
        result["machine"] = f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores"
        result["load_average_before"] = os.getloadavg()
        result.update(seed(env, size))
        previous = RESULTS / f"{label(size)}.json"
        if result["generator"] == "already there" and previous.exists():
            # The database was generated by an earlier run: keep that run's generator figure.
            earlier = json.loads(previous.read_text()).get("generator", "")
            if earlier.startswith("Generated"):
                note = " (when the database was created)"
                result["generator"] = earlier if earlier.endswith(note) else earlier + note
        measured = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "measure.py")],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        result.update(json.loads(measured.stdout.strip().splitlines()[-1]))
        result.update(http_figures(env, duration))
        result["load_average_after"] = os.getloadavg()
        (RESULTS / f"{label(size)}.json").write_text(json.dumps(result, indent=2, default=str))
        print(json.dumps({k: v for k, v in result.items() if k != "explain_list"}, indent=2, default=str))
    write_doc()


if __name__ == "__main__":
    main()
