from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from communes.spreadsheets import ImportFailed, import_post_offices


class Command(BaseCommand):
    help = (
        "Create or update post offices from a CSV (UTF-8) or XLSX file with the columns of "
        "docs/network.md; all rows or none."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to a .csv or .xlsx file")
        parser.add_argument(
            "--user",
            default="",
            help="act as this user (their scope applies, the history names them); default: the system",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No such user: {options['user']}") from None
        try:
            result = import_post_offices(by=user, data=path.read_bytes(), filename=path.name)
        except PermissionDenied:
            raise CommandError(_("This user's role may not change the post office network.")) from None
        except ImportFailed as failure:
            for error in failure.errors:
                where = _("line %(line)s") % {"line": error.line} if error.line else _("file")
                self.stderr.write(f"{path.name}, {where}: {error.message}")
            raise CommandError(
                _("Nothing was imported: %(count)s rows or problems to correct.")
                % {"count": len(failure.errors)}
            ) from None
        self.stdout.write(
            f"Post offices: {result.created} created, {result.updated} updated, {result.unchanged} unchanged."
        )
