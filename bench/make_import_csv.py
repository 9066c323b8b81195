"""Write an import file (docs/import-format.md) of N realistic rows for the import benchmark.

Run inside Django (bench/run.py calls ``write_csv``): the rows use the catalogue's procedures and
the demo communes' identifiers, with codes numbered from 7001 so they do not collide with the
demo generator's numbers (a few hundred per unit and day).
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

from communes.models import AdministrativeUnit
from demo.communes import COMMUNE_CODES
from dossiers.importing import COLUMNS
from dossiers.models import Procedure

REASONS = ["in_person", "worried_papers", "fee", "unaware", "urgent"]


def write_csv(path: Path, rows: int, *, seed: int = 7, now: datetime | None = None) -> Path:
    rng = random.Random(seed)
    now = now or datetime.now()
    units = list(AdministrativeUnit.objects.filter(code__in=COMMUNE_CODES).order_by("code"))
    procedures = list(Procedure.objects.filter(active=True).order_by("national_code"))
    numbers: dict[tuple[str, str], int] = {}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for _ in range(rows):
            unit = rng.choice(units)
            procedure = rng.choice(procedures)
            received = now - timedelta(days=rng.randint(2, 700), minutes=rng.randint(0, 600))
            received = received.replace(hour=rng.randint(7, 16), second=0, microsecond=0)
            day = received.strftime("%y%m%d")
            key = (unit.dossier_prefix, day)
            numbers[key] = numbers.get(key, 7000) + 1
            status = rng.choice([4, 9, 10, 10, 10])
            channel = rng.choice(["tai_quay", "tai_quay", "bcci", "truc_tuyen"])
            intake = 3 if (channel == "bcci" and procedure.bcci_intake_allowed and rng.random() < 0.3) else 1
            finished = received + timedelta(days=rng.randint(0, 6), hours=1) if status in (9, 10) else None
            returned = finished + timedelta(days=rng.randint(0, 3)) if status == 10 else None
            if returned and returned > now:
                returned = now - timedelta(minutes=5)
            if finished and finished > now:
                finished = now - timedelta(minutes=10)
            if not procedure.bcci_return_allowed and channel == "bcci":
                channel = "tai_quay"
            if procedure.presence_required:
                intake = 1
            reason = "" if channel == "bcci" else rng.choice(REASONS)
            writer.writerow(
                [
                    f"{unit.dossier_prefix}-{day}-{numbers[key]:04d}",
                    procedure.national_code,
                    unit.code,
                    f"Nguyễn Văn Nhập {rng.randint(1, 99999)}",
                    intake,
                    channel,
                    status,
                    received.strftime("%d/%m/%Y %H:%M"),
                    f"09{rng.randrange(10**8):08d}",
                    f"Thôn {rng.randint(1, 12)}, {unit.name}",
                    f"044{rng.randrange(10**9):09d}",
                    reason,
                    "",
                    "",
                    finished.strftime("%d/%m/%Y %H:%M") if finished else "",
                    returned.strftime("%d/%m/%Y %H:%M") if returned else "",
                ]
            )
    return path
