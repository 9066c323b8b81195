"""manage.py import_dossiers FILE: import a CSV or XLSX export of a provincial one-stop system."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from dossiers import importing
from dossiers.models import ImportJob


class Command(BaseCommand):
    help = "Import dossiers from a CSV or XLSX file (format: docs/import-format.md); upsert by code."
    # A data command run on a deployed site: the system checks (models, URLs, admin: a quarter
    # of a second) belong to deploying it (`manage.py check --deploy`, `migrate`), not to each file.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV (UTF-8) or XLSX file")
        parser.add_argument(
            "--good-rows-only",
            action="store_true",
            help="import the valid rows and report the others (default: a bad row rejects the file)",
        )
        parser.add_argument(
            "--user", help="username to import as: only that user's communes are accepted (default: all)"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No such user: {options['user']}")
        mode = ImportJob.Mode.GOOD_ROWS if options["good_rows_only"] else ImportJob.Mode.ALL_OR_NOTHING
        job = importing.create_job_from_path(by=user, path=path, mode=mode)
        job = importing.run_import(job.pk)
        for error in job.errors:
            self.stderr.write(f"line {error['line']}: {error['message']}")
        if job.error_count > len(job.errors):
            self.stderr.write(f"… and {job.error_count - len(job.errors)} more bad rows")
        summary = (
            f"{job.get_status_display()}: {job.total_rows} rows, {job.created_count} created, "
            f"{job.updated_count} updated, {job.unchanged_count} unchanged, {job.error_count} bad"
        )
        if job.message:
            summary += f" — {job.message}"
        if job.status != ImportJob.Status.DONE:
            raise CommandError(summary)
        self.stdout.write(summary)
