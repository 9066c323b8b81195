"""Demo catalogue and dossiers: two years of a district's one-stop desks.

``seed(options={"dossiers": N})`` loads the catalogue (idempotent) and tops the demo communes up
to N dossiers, spread over the last two years, with a realistic mix: intake channels, postal
return rising over time, declines by reason, supplements, extensions, late dossiers, and the
postal items of postal dossiers. The rows are written in bulk by ``demo.generator`` (COPY on
PostgreSQL): a million dossiers take about a minute and a half on two cores.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.utils import timezone

from communes.models import AdministrativeUnit
from demo import generator
from demo.communes import COMMUNE_CODES
from dossiers.catalogue import load_catalogue
from dossiers.models import Dossier


def seed(*, options, stdout) -> None:
    created, total = load_catalogue()
    stdout.write(f"Demo catalogue: {total} procedures ({created} new).")
    wanted = int(options.get("dossiers", 2000) or 0)
    if wanted <= 0:
        return
    communes = list(AdministrativeUnit.objects.filter(code__in=COMMUNE_CODES).order_by("code"))
    if not communes:
        stdout.write("No demo communes: run the communes seed first.")
        return
    # In the demo's order: the district seat (the busiest desk) first.
    communes.sort(key=lambda c: COMMUNE_CODES.index(c.code))
    existing = Dossier.objects.filter(receiving_unit__in=communes).count()
    missing = wanted - existing
    if missing <= 0:
        stdout.write(f"Demo dossiers: {existing} already there.")
        return
    started = time.monotonic()
    count = generate_dossiers(
        count=missing,
        communes=communes,
        seed=int(options.get("seed") or 2026),
        now=timezone.now(),
        stdout=stdout,
    )
    stdout.write(
        f"Demo dossiers: {count} created over the last two years ({existing + count} in all) "
        f"in {time.monotonic() - started:.1f} s."
    )


def generate_dossiers(
    *, count: int, communes, seed: int = 2026, now: datetime | None = None, stdout=None
) -> int:
    """Create ``count`` demo dossiers with their history in bulk; returns how many were created."""
    return generator.generate(count=count, communes=communes, seed=seed, now=now, stdout=stdout)
