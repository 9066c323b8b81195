"""Leaders' figures at province and national scale, and fresh within a minute under load.

``measure(size)`` (called by bench/run.py for each size of NATIONAL_SIZES, default 100000):
creates ``postdesk_scale_national_<N>`` if needed, loads the units and runs
``seed_demo --dossiers N --spread national`` (every commune of the country), then

- in process (this file run as a script, Django test client): server time of the province
  leader's dashboard over the province with about 100 communes, and of the national
  administrator's (the whole country: its totals, the 34 provinces ranked, each linking to its
  own ranking of communes), this week and year to date; p50 / p95 over BENCH_REQUESTS requests
  and the queries per page;
- over HTTP (bench/freshness.py): 16 desk users logging dossiers while the district leader polls
  the dashboard, with a worker and on the embedded default, freshness off and on.

Results go to bench/results/national_<N>.json; the section between the "bench:national" markers
of docs/performance.md is rewritten from them (``write_doc``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:national begin -->", "<!-- bench:national end -->"


# --- in process, against one database (run as a script) -------------------------------------


def in_process() -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db.models import Count, Q
    from django.test import Client

    from accounts.models import Role, User
    from bench.measure import timed_requests
    from communes.models import AdministrativeUnit

    n = int(os.environ.get("BENCH_REQUESTS", "200"))
    provinces = (
        AdministrativeUnit.objects.filter(level="province")
        .annotate(communes=Count("children", filter=Q(children__level="commune")))
        .order_by("id")
    )
    province = min(provinces, key=lambda p: abs(p.communes - 100))
    leader, _created = User.objects.update_or_create(
        username="bench_tinh", defaults={"role": Role.LEADER, "unit": province, "full_name": "Lãnh đạo tỉnh"}
    )
    admin = User.objects.get(username="quantri")
    communes = AdministrativeUnit.objects.filter(level="commune").count()
    figures = {"province": province.name, "province_communes": province.communes, "communes": communes}
    client = Client()
    client.force_login(leader)
    figures["province_week"] = timed_requests(client, "/reports/", n)
    figures["province_ytd"] = timed_requests(client, "/reports/?period=ytd", n)
    figures["province_ytd_page_2"] = timed_requests(client, "/reports/?period=ytd&rank_page=2", n)
    client = Client()
    client.force_login(admin)
    figures["national_week"] = timed_requests(client, "/reports/?unit=all", n)
    figures["national_ytd"] = timed_requests(client, "/reports/?unit=all&period=ytd", n)

    return figures


# --- orchestration (called by bench/run.py) ------------------------------------------------------


def label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def measure(size: int, *, pg: str, start_server, duration: float) -> dict:
    from bench.freshness import freshness_figures
    from bench.run import ensure_database, manage

    name = f"postdesk_scale_national_{label(size)}"
    ensure_database(name)
    env = {**os.environ, "DATABASE_URL": f"{pg}/{name}", "DEBUG": "false"}
    env.pop("CELERY_BROKER_URL", None)
    result = {"size": size, "database": name, "date": datetime.now().isoformat(timespec="minutes")}
    result["load_average_before"] = os.getloadavg()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_units", capture=True)
    started = time.perf_counter()
    out = manage(env, "seed_demo", "--dossiers", str(size), "--spread", "national", capture=True).stdout
    if "Generated in" in out:
        result["seed_demo_seconds"] = round(time.perf_counter() - started, 1)
    measured = subprocess.run(
        [sys.executable, str(Path(__file__))], env=env, check=True, capture_output=True, text=True
    )
    result["dashboards"] = json.loads(measured.stdout.strip().splitlines()[-1])
    result["freshness"] = freshness_figures(env, start_server=start_server, duration=duration)
    result["load_average_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"national_{label(size)}.json").write_text(json.dumps(result, indent=2, default=str))
    return result


def _size(size: int) -> str:
    return f"{size // 1_000_000} M" if size % 1_000_000 == 0 else f"{size // 1000} k"


def render(results: list[dict]) -> str:
    lines = []
    for r in sorted(results, key=lambda r: r["size"]):
        d = r["dashboards"]
        loads = ", ".join(f"{x:.1f}" for x in r["load_average_before"])
        lines += [
            f"#### {_size(r['size'])} dossiers over {d['communes']:,} communes (measured {r['date']}, "
            f"load average before {loads})",
            "",
            "| dashboard | p50 | p95 | queries |",
            "|---|---|---|---|",
        ]
        for key, text in (
            (
                "province_week",
                f"province leader, {d['province']} ({d['province_communes']} communes), this week",
            ),
            ("province_ytd", "province leader, year to date"),
            ("province_ytd_page_2", "province leader, year to date, ranking page 2"),
            ("national_week", "national administrator, whole country, this week"),
            ("national_ytd", "national administrator, year to date"),
        ):
            f = d[key]
            lines.append(f"| {text} | {f['p50_ms']:.0f} ms | {f['p95_ms']:.0f} ms | {f['queries']} |")
        lines += [
            "",
            "| configuration | freshness | intakes (per s) | intake p50 / p95 "
            "| commit → figure p50 / p95 / max | server CPU per intake | errors |",
            "|---|---|---|---|---|---|---|",
        ]
        for key, f in r["freshness"].items():
            mode, state = key.split("_")
            shown = (
                f"{f['commit_to_figure_p50_s']} / {f['commit_to_figure_p95_s']} / "
                f"{f['commit_to_figure_max_s']} s ({f['shown']} of {f['intakes']})"
                if "shown" in f
                else "–"
            )
            lines.append(
                f"| {'Redis + worker + beat' if mode == 'worker' else 'embedded default'} | {state} | "
                f"{f['intakes']} ({f['intakes_per_second']}) | "
                f"{f['intake_p50_ms']:.0f} / {f['intake_p95_ms']:.0f} ms | {shown} | "
                f"{f.get('server_cpu_ms_per_intake', '–')} ms | {f['errors']} |"
            )
        for mode in ("worker", "embedded"):
            off, on = r["freshness"].get(f"{mode}_off"), r["freshness"].get(f"{mode}_fresh")
            if off and on:
                lines.append("")
                lines.append(
                    f"Intake p95 with freshness / without ({mode}): "
                    f"{on['intake_p95_ms'] / off['intake_p95_ms']:.2f}×."
                )
        lines.append("")
    return "\n".join(lines)


def write_doc() -> None:
    results = [json.loads(p.read_text()) for p in RESULTS.glob("national_*.json")]
    text = DOC.read_text()
    if not results or BEGIN not in text or END not in text:
        return
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n\n{render(results)}\n{END}{tail}")


if __name__ == "__main__":
    print(json.dumps(in_process(), default=str))
