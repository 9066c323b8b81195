from django.core.management.base import BaseCommand

from communes.services import load_official_units


class Command(BaseCommand):
    help = "Load the 34 provinces and 3,321 communes from vietnam-provinces (idempotent)."

    def handle(self, *args, **options):
        result = load_official_units()
        self.stdout.write(
            f"Units: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
        )
