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
PASSWORD = "PostDesk@2026"  # noqa: S105 - the demo logins' password (demo/accounts.py)
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:figures begin -->", "<!-- bench:figures end -->"


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


APPS = ("accounts", "communes", "dossiers", "postal", "reports", "privacy")


def migrated_with_other_files(name: str) -> bool:
    """Whether the database records migrations of ours that are not on disk (it was built before
    the migrations were squashed): its schema may lack what was added since, so it is rebuilt."""
    import psycopg

    with psycopg.connect(f"{PG}/{name}") as conn:
        if conn.execute("SELECT to_regclass('django_migrations')").fetchone()[0] is None:
            return False
        recorded = conn.execute(
            "SELECT app, name FROM django_migrations WHERE app = ANY(%s)", [list(APPS)]
        ).fetchall()
    on_disk = {(path.parent.parent.name, path.stem) for path in ROOT.glob("*/migrations/0*.py")}
    return any(tuple(row) not in on_disk for row in recorded)


def ensure_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and migrated_with_other_files(name):
            print(f"{name} was migrated with other migration files: rebuilding it", flush=True)
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
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
    if not generated:
        return {"generator": "already there"}
    return {"seed_demo_seconds": round(seconds, 1), "generator": generated.group(0)}


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
        codes = [
            code
            for (code,) in conn.execute(
                "SELECT code FROM postal_postalitem WHERE post_office_id = %s ORDER BY id DESC LIMIT 2000",
                [office],
            )
        ]
        # Items out for delivery with no attempt yet: the updates below stay within today, so
        # the two-notice rule never sends one back to the agency.
        movable = conn.execute(
            "SELECT id, status FROM postal_postalitem i WHERE post_office_id = %s "
            "AND status = 'out_for_delivery' AND NOT EXISTS "
            "(SELECT 1 FROM postal_deliveryattempt a WHERE a.item_id = i.id) ORDER BY id",
            [office],
        ).fetchall()
        marks = conn.execute(
            "SELECT (SELECT coalesce(max(id), 0) FROM postal_itemevent), "
            "(SELECT coalesce(max(id), 0) FROM postal_deliveryattempt)"
        ).fetchone()
    state = dict(movable)
    clients = 8

    def scan_step(session, i):
        """Four scans (look-ups) for one update. Each client updates its own items, with moves
        the workflow allows: out for delivery -> a failed attempt (nobody at home) -> out for
        delivery again; repeated the same day, the two-notice rule never returns them."""
        client, n = divmod(i, 1_000_000)
        own = movable[client::clients]
        if own and n % 5 == 4:
            pk, _status = own[(n // 5) % len(own)]
            if state[pk] == "delivery_failed":
                state[pk] = "out_for_delivery"
                return "POST", f"/postal/items/{pk}/move/", {"to_status": "out_for_delivery"}
            state[pk] = "delivery_failed"
            return "POST", f"/postal/items/{pk}/attempt/", {"outcome": "not_home"}
        return "GET", f"/postal/scan/?code={codes[i % len(codes)]}", None

    def list_step(session, i):
        pages = [
            "/dossiers/",
            "/dossiers/?status=10",
            "/dossiers/?q=Nguy%E1%BB%85n",
            "/dossiers/?flag=overdue",
        ]
        return "GET", pages[i % len(pages)], None

    def item_events() -> int:
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            return conn.execute("SELECT count(*) FROM postal_itemevent WHERE id > %s", [marks[0]]).fetchone()[
                0
            ]

    def restore() -> None:
        """Leave the database as it was: the run's events and attempts go, the items go back."""
        with psycopg.connect(env["DATABASE_URL"]) as conn:
            conn.execute("DELETE FROM postal_itemevent WHERE id > %s", [marks[0]])
            conn.execute("DELETE FROM postal_deliveryattempt WHERE id > %s", [marks[1]])
            conn.execute(
                "UPDATE postal_postalitem SET status = 'out_for_delivery' WHERE id = ANY(%s)",
                [[pk for pk, _status in movable]],
            )

    server = gunicorn(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        scan = loadgen.run(
            base,
            clients=clients,
            step=scan_step,
            login=("buudien", PASSWORD),
            duration=duration,
            warmup=f"/postal/scan/?code={codes[0]}" if codes else "/",
        )
        scan_summary = scan.summary()
        # Every update must have been carried out: one item event each (a refused move would
        # redirect with an error message and record nothing).
        scan_summary["updates_recorded"] = item_events()
        scan_summary["updates_sent"] = scan.statuses.get(302, 0)
        users = loadgen.run(
            base,
            clients=16,
            step=list_step,
            login=("lanhdao", PASSWORD),
            duration=duration,
            warmup="/dossiers/",
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        restore()
    return {"scan_update": scan_summary, "list_16_users": users.summary()}


def _ms(figure: dict | None, key: str) -> str:
    return "–" if not figure else f"{figure[key]:.0f} ms"


def _size(size: int) -> str:
    return f"{size // 1_000_000} M" if size % 1_000_000 == 0 else f"{size // 1000} k"


def _table(header: list[str], rows) -> list[str]:
    rows = list(rows)
    if not rows:
        return []
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def _loads(r: dict, key: str) -> str:
    return ", ".join(f"{x:.1f}" for x in r.get(key, []))


def _conditions(results: list[dict]) -> list[str]:
    return _table(
        ["size", "measured", "load average before → after", "generated"],
        (
            [
                _size(r["size"]),
                r["date"],
                f"{_loads(r, 'load_average_before')} → {_loads(r, 'load_average_after')}",
                r.get("generated_on", "–"),
            ]
            for r in results
        ),
    )


def _generator(results: list[dict]) -> list[str]:
    return _table(
        ["size", "`seed_demo` wall time", "generator"],
        (
            [
                _size(r["size"]),
                f"{r['seed_demo_seconds']:.0f} s" if r.get("seed_demo_seconds") else "–",
                r.get("generator", "–"),
            ]
            for r in results
        ),
    )


def _page_cell(f: dict | None) -> str:
    if not f:
        return "–"
    return f"p50 {f['p50_ms']:.0f} / p95 {f['p95_ms']:.0f} ms, {', '.join(map(str, f['queries']))} queries"


def _pages(results: list[dict]) -> list[str]:
    full = [r for r in results if r.get("list")]
    if not full:
        return []
    measures = [
        ("list, status filter + name search, first page", lambda r: r["list"]["first_page"]),
        ("list, same filter, deep page", lambda r: r["list"]["deep_page"]),
        ("list, no filter", lambda r: r["list"]["unfiltered"]),
        ("leader dashboard", lambda r: r.get("dashboard")),
    ]
    lines = _table(
        ["measure", *(_size(r["size"]) for r in full)],
        ([name, *(_page_cell(pick(r)) for r in full)] for name, pick in measures),
    )
    depth = ", ".join(f"{_size(r['size'])}: {r['list'].get('deep_rows', 0):,}" for r in full)
    requests = ", ".join(sorted({str(r["list"]["first_page"]["requests"]) for r in full}))
    return [
        *lines,
        "",
        f"Requests per measure: {requests}. Deep page: the cursor this many rows down ({depth}).",
    ]


def _weekly(results: list[dict]) -> list[str]:
    def row(r):
        w = r["weekly"]
        ratio = w["one_week_job_ms"] / w["one_week_bare_sql_ms"] if w["one_week_bare_sql_ms"] else 0
        return [
            _size(r["size"]),
            f"{w['one_week_job_ms']:.0f} ms",
            f"{w['one_week_bare_sql_ms']:.0f} ms",
            f"{ratio:.1f}×",
            f"{w['many_weeks_job_ms'] / 1000:.2f} s",
            f"{w['many_weeks_bare_sql_ms'] / 1000:.2f} s",
        ]

    header = [
        "size",
        "one week: job",
        "one week: bare SQL",
        "ratio",
        "52 weeks: job",
        "52 weeks: bare SQL, week by week",
    ]
    return _table(header, (row(r) for r in results if r.get("weekly")))


def _imports(results: list[dict]) -> list[str]:
    return _table(
        ["database", "rows imported", "time", "peak RSS", "created"],
        (
            [
                _size(r["size"]),
                f"{d['rows']:,}",
                f"{d['seconds']:.1f} s",
                f"{d['peak_rss_mb']:.0f} MB",
                f"{d['created']:,}",
            ]
            for r in results
            if (d := r.get("import"))
        ),
    )


def _http(results: list[dict]) -> list[str]:
    runs = (("postal scan/update, 8 clients", "scan_update"), ("dossier list, 16 users", "list_16_users"))
    return _table(
        ["size", "run", "requests", "req/s", "p50", "p95", "errors", "updates recorded / sent"],
        (
            [
                _size(r["size"]),
                name,
                f["requests"],
                f"{f['rps']:.1f}",
                _ms(f, "p50_ms"),
                _ms(f, "p95_ms"),
                f["errors"],
                f"{f['updates_recorded']} / {f['updates_sent']}" if "updates_sent" in f else "–",
            ]
            for r in results
            for name, key in runs
            if (f := r.get(key))
        ),
    )


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def _targets(results: list[dict]) -> list[str]:
    """Each speed target against the largest complete size (1 M when measured)."""
    full = [r for r in results if r.get("list") and r.get("scan_update")]
    if not full:
        return []
    top = max(full, key=lambda r: r["size"])
    at = _size(top["size"])
    rows = []
    seconds = top.get("seed_demo_seconds")
    rows.append(
        (
            "generator: 1 M dossiers < 2 min",
            f"`seed_demo` {seconds:.0f} s at {at}" if seconds else "–",
            seconds < 120 if seconds and top["size"] >= 1_000_000 else None,
        )
    )
    pages = [top["list"]["first_page"], top["list"]["deep_page"], top["list"]["unfiltered"]]
    worst = max(p["p95_ms"] for p in pages if p)
    rows.append(
        ("list p95 ≤ 100 ms (first, deep, unfiltered)", f"worst p95 {worst:.0f} ms at {at}", worst <= 100)
    )
    counts = {
        q
        for r in full
        for p in (r["list"]["first_page"], r["list"]["deep_page"], r["list"]["unfiltered"])
        if p
        for q in p["queries"]
    }
    sizes = ", ".join(_size(r["size"]) for r in sorted(full, key=lambda r: r["size"]))
    rows.append(
        (
            "list: SQL queries per page constant as data grows",
            f"{sorted(counts)} at {sizes}",
            len(counts) == 1,
        )
    )
    dash = top["dashboard"]["p95_ms"]
    rows.append(("dashboard p95 ≤ 100 ms", f"p95 {dash:.0f} ms at {at}", dash <= 100))
    w = top["weekly"]
    ratio = w["one_week_job_ms"] / w["one_week_bare_sql_ms"]
    rows.append(("weekly job, one week ≤ 2× bare SQL", f"{ratio:.1f}× at {at}", ratio <= 2))
    many = w["many_weeks_job_ms"] / 1000
    rows.append(("weekly job, 52 weeks ≤ 2 s", f"{many:.2f} s at {at}", many <= 2))
    for r in results:
        if r["size"] > top["size"] and r.get("weekly"):
            big = r["weekly"]
            rows.append(
                (
                    f"weekly job at {_size(r['size'])} (growth)",
                    f"one week {big['one_week_job_ms']:.0f} ms, "
                    f"52 weeks {big['many_weeks_job_ms'] / 1000:.2f} s",
                    None,
                )
            )
    done = top.get("import")
    if done:
        ok = done["seconds"] <= 20 and done["peak_rss_mb"] <= 400
        rows.append(
            (
                "import 100,000 rows ≤ 20 s, ≤ 400 MB",
                f"{done['seconds']:.1f} s, {done['peak_rss_mb']:.0f} MB at {at}",
                ok,
            )
        )
    scan = top["scan_update"]
    lost = scan.get("updates_sent", 0) - scan.get("updates_recorded", 0)
    ok = scan["rps"] >= 150 and scan["p95_ms"] <= 100 and scan["errors"] == 0 and lost == 0
    rows.append(
        (
            "scan/update ≥ 150 req/s, p95 ≤ 100 ms, 0 errors",
            f"{scan['rps']:.0f} req/s, p95 {scan['p95_ms']:.0f} ms, {scan['errors']} errors, "
            f"{scan.get('updates_recorded', 0)} of {scan.get('updates_sent', 0)} updates recorded at {at}",
            ok,
        )
    )
    users = top["list_16_users"]
    rows.append(
        ("16 users on the list p95 ≤ 300 ms", f"p95 {users['p95_ms']:.0f} ms at {at}", users["p95_ms"] <= 300)
    )
    return _table(
        ["target", "measured", "status"], ([name, measured, _verdict(ok)] for name, measured, ok in rows)
    )


def _execution_ms(plan: str) -> str:
    found = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return f"{float(found.group(1)):.1f} ms" if found else "–"


def _plans(results: list[dict]) -> list[str]:
    with_plans = sorted((r for r in results if r.get("explain")), key=lambda r: r["size"])
    if not with_plans:
        return []
    top = with_plans[-1]
    names = list(top["explain"])
    lines = [
        "Execution time of each hot query at each size (from its plan):",
        "",
        *_table(
            ["query", *(_size(r["size"]) for r in with_plans)],
            (
                [name, *(_execution_ms(r["explain"].get(name, {}).get("plan", "")) for r in with_plans)]
                for name in names
            ),
        ),
        "",
        f"Plans at {_size(top['size'])} dossiers (`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF)`):",
        "",
    ]
    for name, found in top["explain"].items():
        lines += [f"**{name}**", "", "```", found["plan"], "```", ""]
    return lines


def render(results: list[dict]) -> str:
    """The generated Markdown of docs/performance.md, from every results file."""
    results = sorted(results, key=lambda r: r["size"])
    parts = [
        ("Targets", _targets(results)),
        ("When and under what load", _conditions(results)),
        ("Generator", _generator(results)),
        ("Server time in process (Django test client, p50 / p95)", _pages(results)),
        ("Weekly job (best of 3 for one week) against the bare grouped SQL", _weekly(results)),
        ("Import of a CSV file (`manage.py import_dossiers`, a subprocess)", _imports(results)),
        ("Over HTTP: gunicorn with 2 workers, load from a second process on loopback", _http(results)),
        ("EXPLAIN of the hot queries", _plans(results)),
    ]
    out = []
    for title, lines in parts:
        if lines:
            out += [f"### {title}", "", *lines, ""]
    return "\n".join(out)


def write_doc() -> None:
    """Rewrite the generated figures of docs/performance.md from bench/results/*.json."""
    results = [json.loads(path.read_text()) for path in RESULTS.glob("*.json")]
    results = [r for r in results if "size" in r and ("scan_update" in r or r.get("weekly_only"))]
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{render(results)}\n{END}{tail}")


def measure(size: int, duration: float, *, weekly_only: bool = False) -> None:
    name = f"postdesk_scale_{label(size)}"
    ensure_database(name)
    env = {**os.environ, "DATABASE_URL": f"{PG}/{name}", "DEBUG": "false"}
    env.setdefault("BENCH_REQUESTS", "200")
    env.setdefault("BENCH_IMPORT_ROWS", str(min(100_000, size)))
    if weekly_only:
        env["BENCH_PARTS"] = "weekly"
    result = {"size": size, "database": name, "date": datetime.now().isoformat(timespec="minutes")}
    result["machine"] = f"{platform.machine()}, {os.cpu_count()} cores"
    result["weekly_only"] = weekly_only
    result["load_average_before"] = os.getloadavg()
    result.update(seed(env, size))
    previous = RESULTS / f"{label(size)}.json"
    if result["generator"] == "already there" and previous.exists():
        # The database was generated by an earlier run: keep that run's generator figures.
        earlier = json.loads(previous.read_text())
        if earlier.get("generator", "").startswith("Generated"):
            result["generator"] = earlier["generator"]
            result["seed_demo_seconds"] = earlier.get("seed_demo_seconds")
            result["generated_on"] = earlier.get("generated_on", earlier.get("date"))
    result.setdefault("generated_on", result["date"])
    measured = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "measure.py")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result.update(json.loads(measured.stdout.strip().splitlines()[-1]))
    if not weekly_only:
        result.update(http_figures(env, duration))
    result["load_average_after"] = os.getloadavg()
    previous.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps({k: v for k, v in result.items() if k != "explain"}, indent=2, default=str))


def main() -> None:
    if sys.argv[1:] == ["--doc"]:  # rewrite docs/performance.md from the results already there
        write_doc()
        return
    sizes = [int(s) for s in os.environ.get("SIZES", "10000 100000 1000000").split()]
    weekly_sizes = [int(s) for s in os.environ.get("WEEKLY_SIZES", "5000000").split()]
    duration = float(os.environ.get("BENCH_DURATION", "30"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        measure(size, duration)
    for size in weekly_sizes:
        measure(size, duration, weekly_only=True)
    write_doc()


if __name__ == "__main__":
    main()
