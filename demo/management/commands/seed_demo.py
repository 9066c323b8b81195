"""Demo data for every app, in dependency order.

The demo data of each app is ``demo/<app>.py`` with ``seed(*, options, stdout)``; this command
calls them in the order apps may depend on each other, so no app's seed edits another's.
"""

from importlib import import_module

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
            import_module(f"demo.{app}").seed(options=options, stdout=self.stdout)
