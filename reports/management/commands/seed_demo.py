"""Demo data for every app, in dependency order.

Each app that has demo data offers ``<app>/demo.py`` with ``seed(*, options, stdout)``; this
command calls them in the order apps may depend on each other, so no app edits another's seed.
"""

from importlib import import_module
from importlib.util import find_spec

from django.core.management.base import BaseCommand

SEED_ORDER = ("communes", "accounts", "dossiers", "postal", "reports")


class Command(BaseCommand):
    help = "Create demo units, users, catalogue, post offices and history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dossiers",
            type=int,
            default=2000,
            help="how many demo dossiers to generate (default 2,000; fast at 1,000,000)",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed, for repeatable data")

    def handle(self, *args, **options):
        for app in SEED_ORDER:
            if find_spec(f"{app}.demo"):
                import_module(f"{app}.demo").seed(options=options, stdout=self.stdout)
