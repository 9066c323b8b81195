"""`make bench`, API part: carrier tracking events and 1,000-dossier batches over HTTP against
gunicorn with 2 workers, on a copy of the 1M-dossier benchmark database.

The API adds tables of its own, and the shared ``postdesk_scale_*`` databases keep their schema,
so this runs on ``postdesk_api_1m``: a copy of ``postdesk_scale_1m`` (CREATE DATABASE … TEMPLATE
when nobody is connected to the source, pg_dump | pg_restore otherwise), migrated. Then:

1. a carrier client (the province post office and every office under it, ``items:write``) and a
   provincial system (the province, ``dossiers:write``) are created;
2. ITEMS finished BCCI results get a return item accepted by the post; 8 carrier threads send
   each item's in_transit, out_for_delivery and delivered events in order (1 in 20 sent twice),
   for BENCH_DURATION seconds, over keep-alive connections;
3. three 1,000-dossier batches are timed: new codes, the same again (unchanged), then changed;
4. what the run added is removed again, so the copy can be measured again.

Results go to bench/results/api_1m.json and the API section of docs/performance.md.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import loadgen  # noqa: E402
from bench.run import PG, gunicorn  # noqa: E402

SOURCE = os.environ.get("API_BENCH_SOURCE", "postdesk_scale_1m")
TARGET = os.environ.get("API_BENCH_DB", "postdesk_api_1m")
ITEMS = int(os.environ.get("API_BENCH_ITEMS", "4000"))
CLIENTS = int(os.environ.get("API_BENCH_CLIENTS", "8"))
SERVICE = "EZ"  # S10 service letters no real item uses: the run's items are found again by them
# The timed batches' dossier codes: each commune's own numbering (as the importer's rules, which
# the API shares, require), on a day long before any data, numbers from 9001; found again by it.
BATCH_DAY = date(2020, 1, 1)
BATCH_CODES = f"%-{BATCH_DAY:%y%m%d}-9%"
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:api begin -->", "<!-- bench:api end -->"
# The carrier's events are dated from this long ago onwards (a few seconds apart per item).
EVENTS_FROM = timedelta(hours=3)


def event_body(code: str, kind: str, at: datetime, step: int) -> str:
    """The JSON of one carrier event of an item: its id from the code and step, a recipient for
    a delivery."""
    event = {"event_id": f"{code}-{step}", "kind": kind, "at": at.isoformat()}
    if kind == "delivered":
        event["recipient"] = {"name": "Người nhận", "id_checked": True}
    return json.dumps(event)


def clone() -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [TARGET]).fetchone():
            return "existing copy"
        for _attempt in range(10):
            try:
                conn.execute(f'CREATE DATABASE "{TARGET}" TEMPLATE "{SOURCE}"')
                return "template copy"
            except psycopg.errors.ObjectInUse:
                time.sleep(5)
        conn.execute(f'CREATE DATABASE "{TARGET}"')
    dump = subprocess.Popen(["pg_dump", "-Fc", "-Z0", "-d", f"{PG}/{SOURCE}"], stdout=subprocess.PIPE)
    subprocess.run(["pg_restore", "--no-owner", "-d", f"{PG}/{TARGET}"], stdin=dump.stdout, check=True)
    dump.wait()
    return "pg_dump copy"


def prepare() -> dict:
    """In the copy: migrate, clients, the items the carrier will move, the batch rows."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Q

    _adopt_squashed_migrations()
    call_command("migrate", "--noinput", verbosity=0)
    from api.clients import create_client, rotate_token
    from api.models import ApiClient
    from communes.models import AdministrativeUnit, PostOffice
    from dossiers.models import Dossier, Procedure
    from postal import s10
    from postal.models import PostalItem

    root = PostOffice.objects.filter(parent__isnull=True).order_by("id").first()
    province = AdministrativeUnit.objects.filter(level="province", id__in=_ancestors_with_dossiers()).first()
    tokens = {}
    for name, kwargs in (
        ("bench-carrier", {"post_office": root, "scopes": ["items:write"]}),
        ("bench-province", {"unit": province, "scopes": ["dossiers:write", "dossiers:read"]}),
    ):
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            client, token = create_client(name=name, rate_per_minute=1_000_000, **kwargs)
        else:
            token = rotate_token(client=client)
        tokens[name] = token
    offices = {office.commune_id: office for office in PostOffice.objects.filter(status="operating")}
    # Finished dossiers with no result item yet, in communes with an operating office; the
    # delivery returns their result by post (whatever the citizen first asked for, as at a desk).
    # Finished before the first event's time (EVENTS_FROM back): a result is never returned
    # before it was finished, and a freshly seeded copy has dossiers finished minutes ago.
    finished_before = datetime.now().astimezone() - EVENTS_FROM
    candidates = list(
        Dossier.objects.filter(status=9, receiving_unit_id__in=offices, finished_at__lt=finished_before)
        .exclude(Q(postal_items__direction="return"))
        .order_by("id")
        .values_list("id", "receiving_unit_id")[:ITEMS]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_api_restore")
        cursor.execute(
            "CREATE TABLE bench_api_restore AS SELECT id, status, return_channel, decline_reason, "
            "returned_at, version FROM dossiers_dossier WHERE id = ANY(%s)",
            [[dossier_id for dossier_id, _unit in candidates]],
        )
    today = datetime.now().date()
    items = [
        PostalItem(
            code=s10.make_code(SERVICE, 10_000_000 + n),
            dossier_id=dossier_id,
            direction="return",
            post_office=offices[unit_id],
            status="accepted",
            handover_date=today,
            target_date=today + timedelta(days=2),
        )
        for n, (dossier_id, unit_id) in enumerate(candidates)
    ]
    PostalItem.objects.bulk_create(items, batch_size=1000)
    procedure = Procedure.objects.order_by("id").values_list("national_code", "processing_days").first()[0]
    communes = list(
        AdministrativeUnit.objects.filter(level="commune", dossiers__isnull=False)
        .exclude(identifier="")
        .distinct()
        .values_list("code", "identifier")[:20]
    )
    from dossiers.models import DossierCodeSequence

    # The run removes what it adds by these marks: nothing of the copy may carry them before.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM dossiers_dossier WHERE code LIKE %s LIMIT 1", [BATCH_CODES])
        batch_codes_taken = cursor.fetchone() is not None
    if batch_codes_taken:
        raise SystemExit(f"dossiers with codes like {BATCH_CODES} already exist: pick another BATCH_DAY")
    if DossierCodeSequence.objects.filter(day=BATCH_DAY).exists():
        raise SystemExit(f"code sequences of {BATCH_DAY} already exist: pick another BATCH_DAY")
    return {
        "tokens": tokens,
        "items": [item.code for item in items],
        "procedure": procedure,
        "communes": communes,
    }


def _adopt_squashed_migrations() -> None:
    """A copy made before the migrations were squashed into one initial migration per app has
    the schema but not their names: when its history holds names no longer on disk, every
    migration on disk it lacks is recorded as applied (the benchmark copy only)."""
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    on_disk = set(loader.disk_migrations)
    if not applied - on_disk:
        return
    recorder = MigrationRecorder(connection)
    for app, name in sorted(on_disk - applied):
        recorder.record_applied(app, name)


def _ancestors_with_dossiers() -> list[int]:
    from communes.models import AdministrativeUnit
    from dossiers.models import Dossier

    unit_id = Dossier.objects.order_by("id").values_list("receiving_unit_id", flat=True).first()
    chain = []
    while unit_id is not None:
        chain.append(unit_id)
        unit_id = AdministrativeUnit.objects.filter(pk=unit_id).values_list("parent_id", flat=True).first()
    return chain


def marks(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        # The citizens' notices and rating invitations of the deliveries too: left behind, they
        # would make the next run's deliveries cheaper (a dossier gets one notice per event).
        tables = (
            "dossiers_dossierevent",
            "postal_itemevent",
            "postal_deliveryattempt",
            "api_carrierevent",
            "notify_message",
            "notify_rating",
        )
        return {t: conn.execute(f"SELECT coalesce(max(id), 0) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608


def restore(url: str, before: dict) -> None:
    """Leave the copy as it was: the run's rows go, the dossiers it returned are finished again."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE dossiers_dossier d SET status = r.status, return_channel = r.return_channel, "
            "decline_reason = r.decline_reason, returned_at = r.returned_at, version = r.version "
            "FROM bench_api_restore r WHERE r.id = d.id"
        )
        conn.execute("DROP TABLE bench_api_restore")
        for table, last in before.items():
            conn.execute(f"DELETE FROM {table} WHERE id > %s", [last])  # noqa: S608
        conn.execute(f"DELETE FROM postal_postalitem WHERE code LIKE '{SERVICE}%%'")  # noqa: S608
        conn.execute(
            "DELETE FROM dossiers_dossierevent WHERE dossier_id IN "
            "(SELECT id FROM dossiers_dossier WHERE code LIKE %s)",
            [BATCH_CODES],
        )
        conn.execute("DELETE FROM dossiers_dossier WHERE code LIKE %s", [BATCH_CODES])
        conn.execute("DELETE FROM dossiers_dossiercodesequence WHERE day = %s", [BATCH_DAY])
        conn.execute("DELETE FROM api_idempotencyrecord")


def events_run(base: str, prepared: dict, duration: float) -> dict:
    token = prepared["tokens"]["bench-carrier"]
    codes = prepared["items"]
    start = datetime.now().astimezone() - EVENTS_FROM
    kinds = ("in_transit", "out_for_delivery", "delivered")
    # Each client works through its own items in order; 1 event in 20 is sent twice.
    plans = []
    for client in range(CLIENTS):
        plan = []
        for n, code in enumerate(codes[client::CLIENTS]):
            for step, kind in enumerate(kinds):
                body = event_body(code, kind, start + timedelta(seconds=n * 2 + step), step).encode()
                plan.append((f"/api/v1/items/{code}/events", body))
                if (n * 3 + step) % 20 == 0:
                    plan.append((f"/api/v1/items/{code}/events", body))
        plans.append(plan)

    def step(session, i):
        client, n = divmod(i, 1_000_000)
        path, body = plans[client][n % len(plans[client])]
        return "POST", path, body

    result = loadgen.run(
        base,
        clients=CLIENTS,
        step=step,
        duration=duration,
        requests=sum(len(plan) for plan in plans),
        headers={"Authorization": f"Bearer {token}"},
        warmup="/healthz",
    )
    return result.summary()


def batches(base: str, prepared: dict) -> dict:
    session = loadgen.Session("127.0.0.1", int(base.rsplit(":", 1)[1]))
    session.headers["Authorization"] = f"Bearer {prepared['tokens']['bench-province']}"
    day = datetime.now().astimezone() - timedelta(days=3)
    communes = prepared["communes"]
    rows = []
    for n in range(1000):
        unit, prefix = communes[n % len(communes)]
        rows.append(
            {
                "ma_ho_so": f"{prefix}-{BATCH_DAY:%y%m%d}-{9001 + n // len(communes):04d}",
                "ma_thu_tuc": prepared["procedure"],
                "ma_don_vi": unit,
                "ho_ten_nguoi_nop": f"Công dân {n + 1}",
                "so_dien_thoai": f"0912{n:06d}",
                "dia_chi": f"Số {n + 1}, thôn Đông",
                "kenh_tiep_nhan": 2,
                "hinh_thuc_tra_ket_qua": "bcci",
                "trang_thai": 4,
                "ngay_tiep_nhan": day.strftime("%d/%m/%Y 09:30"),
            }
        )
    figures = {}
    for label, body in (
        ("created", rows),
        ("unchanged", rows),
        (
            "updated",
            [{**row, "trang_thai": 9, "ngay_ket_thuc_xu_ly": day.strftime("%d/%m/%Y 15:00")} for row in rows],
        ),
    ):
        started = time.perf_counter()
        status, answer = session.request(
            "POST", "/api/v1/dossiers:batch", json.dumps({"dossiers": body}).encode()
        )
        seconds = time.perf_counter() - started
        counts = json.loads(answer)
        figures[label] = {
            "status": status,
            "seconds": round(seconds, 2),
            "result": {k: counts.get(k) for k in ("created", "updated", "unchanged")},
        }
    session.close()
    return figures


def render(result: dict) -> str:
    events, batch = result["events"], result["batches"]
    statuses = ", ".join(f"{code}: {count:,}" for code, count in events["statuses"].items())
    ok_events = events["rps"] >= 300 and events["p95_ms"] <= 100 and events["errors"] == 0
    lines = [
        f"Measured {result['date']} on {result['machine']}, database `{result['database']}` "
        f"({result['dossiers']:,} dossiers), gunicorn with 2 workers, {CLIENTS} carrier connections "
        f"on loopback; background tasks (notices, webhooks) ran {result.get('tasks', 'in the request')}. "
        f"Load average (1, 5, 15 min) before: {result.get('load_average_before')}, "
        f"after: {result.get('load_average_after')} — other work shared the 2 cores.",
        "",
        "| measure | figure | target | |",
        "|---|---|---|---|",
        f"| tracking events | {events['rps']:.0f}/s over {events['seconds']:.0f} s, "
        f"{events['requests']:,} events | ≥ 300/s | {'met' if ok_events else 'NOT met'} |",
        f"| tracking events p50 / p95 | {events['p50_ms']:.0f} / {events['p95_ms']:.0f} ms "
        "| p95 ≤ 100 ms | |",
        f"| tracking event errors | {events['errors']} (HTTP {statuses}) | 0 | |",
    ]
    cpu = events.get("cpu_ms_per_event")
    if cpu:
        lines.append(
            f"| CPU per event (gunicorn / Celery / PostgreSQL / all) | {cpu['gunicorn']:.1f} / "
            f"{cpu['celery']:.1f} / {cpu['postgresql']:.1f} / {cpu['all']:.1f} ms "
            "| ≤ 6.6 ms in all for 300/s on 2 cores | |"
        )
    for label, figure in batch.items():
        met = figure["seconds"] <= 2 and figure["status"] == 200
        lines.append(
            f"| 1,000-dossier batch, {label} | {figure['seconds']:.2f} s (HTTP {figure['status']}) "
            f"| ≤ 2 s | {'met' if met else 'NOT met'} |"
        )
    return "\n".join(lines) + "\n"


def write_doc(result: dict) -> None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{render(result)}\n{END}{tail}")


def main() -> None:
    if sys.argv[1:] == ["--prepare"]:
        print(json.dumps(prepare()))
        return
    if sys.argv[1:] == ["--doc"]:  # rewrite the section from the last results
        write_doc(json.loads((RESULTS / "api_1m.json").read_text()))
        return
    import platform

    import psycopg

    how = clone()
    url = f"{PG}/{TARGET}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("CELERY_BROKER_URL", None)  # webhooks and marks run in-process, as with no broker
    # API_BENCH_BROKER=redis://…/N: as in production, the web workers queue the citizens' notices,
    # webhooks and recounts and one Celery worker (a solo pool) sends them, on the same cores.
    broker = os.environ.get("API_BENCH_BROKER", "")
    before = marks(url) if _has_api_tables(url) else None
    out = subprocess.run(
        [sys.executable, __file__, "--prepare"], env=env, check=True, capture_output=True, text=True
    )
    prepared = json.loads(out.stdout.strip().splitlines()[-1])
    before = before or marks(url)
    with psycopg.connect(url) as conn:
        dossiers = conn.execute("SELECT count(*) FROM dossiers_dossier").fetchone()[0]
    port = 8200 + random.randint(1, 700)
    helpers = []
    if broker:
        env = {**env, "CELERY_BROKER_URL": broker}
        helpers.append(_celery(env, "worker", "--pool=solo", "--without-gossip", "--without-mingle"))
    server = gunicorn(env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        result = {
            "database": TARGET,
            "copied_by": how,
            "tasks": "in one Celery worker on the same cores (Redis broker)"
            if broker
            else "in the request (no broker)",
            "dossiers": dossiers,
            "date": datetime.now().isoformat(timespec="minutes"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "load_average_before": [round(x, 1) for x in os.getloadavg()],
            "items": len(prepared["items"]),
        }
        pids = [server.pid, *(helper.pid for helper in helpers)]
        cpu_before = _cpu_of(url, pids)
        result["events"] = events_run(base, prepared, float(os.environ.get("BENCH_DURATION", "30")))
        result["events"]["cpu_ms_per_event"] = _cpu_per_event(url, pids, cpu_before, result["events"])
        result["batches"] = batches(base, prepared)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        for helper in helpers:
            helper.send_signal(signal.SIGTERM)
            helper.wait(timeout=60)
        if broker:  # what the worker had not reached when stopped names rows about to go
            subprocess.run(_celery_command("purge", "-f"), cwd=ROOT, env=env, capture_output=True)
        restore(url, before)
    result["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "api_1m.json").write_text(json.dumps(result, indent=2))
    write_doc(result)
    print(json.dumps(result, indent=2))


def _cpu_of(url: str, roots: list[int]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the run's processes (from /proc): gunicorn (``roots[0]``) and
    Celery with their children, and the PostgreSQL backends connected to the copy."""
    import psycopg

    def tree(pid: int) -> list[int]:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return [pid]
        return [pid, *(p for child in children for p in tree(int(child)))]

    with psycopg.connect(url) as conn:
        backends = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ]
    groups = {
        "gunicorn": tree(roots[0]),
        "celery": [p for root in roots[1:] for p in tree(root)],
        "postgresql": backends,
    }
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for name, pids in groups.items():
        seconds[name] = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            seconds[name][pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return seconds


def _cpu_per_event(url: str, roots: list[int], before: dict, events: dict) -> dict:
    """CPU milliseconds per event during the events run, per group and in all: what the load on
    the machine hardly moves (the wall-clock figures depend on the share of the cores the run got)."""
    after = _cpu_of(url, roots)
    per_event = {}
    for name, pids in after.items():
        used = sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
        per_event[name] = round(used * 1000 / max(events["requests"], 1), 2)
    per_event["all"] = round(sum(per_event.values()), 2)
    return per_event


def _celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "config", *args]


def _celery(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*_celery_command(*args), "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _has_api_tables(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return bool(conn.execute("SELECT to_regclass('api_carrierevent')").fetchone()[0])


if __name__ == "__main__":
    main()
