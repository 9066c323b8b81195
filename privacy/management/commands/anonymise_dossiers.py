from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from privacy.retention import anonymise_closed_dossiers


class Command(BaseCommand):
    help = (
        "Anonymise the applicants of dossiers closed more than N years ago (default: the "
        "RETENTION_YEARS setting). Counts for the reports stay; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", type=int, default=None, help="Retention in years (at least 1).")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be anonymised.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, years, dry_run, batch_size, **options):
        years = settings.RETENTION_YEARS if years is None else years
        if years < 1:
            raise CommandError(_("--years must be at least 1."))
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        result = anonymise_closed_dossiers(years=years, dry_run=dry_run, batch_size=batch_size)
        message = (
            _(
                "Would anonymise %(dossiers)s dossiers, %(items)s postal items and %(appointments)s "
                "appointments closed before %(cutoff)s."
            )
            if dry_run
            else _(
                "Anonymised %(dossiers)s dossiers, %(items)s postal items and %(appointments)s "
                "appointments closed before %(cutoff)s."
            )
        )
        self.stdout.write(
            message
            % {
                "dossiers": result.dossiers,
                "items": result.items,
                "appointments": result.appointments,
                "cutoff": f"{result.cutoff:%d/%m/%Y}",
            }
        )
