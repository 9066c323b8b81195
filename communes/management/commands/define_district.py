from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communes.services import define_district


class Command(BaseCommand):
    help = "Group communes of one province under a district-level unit (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="code of the district grouping")
        parser.add_argument("--name", required=True)
        parser.add_argument("--province", required=True, help="official province code, e.g. 44")
        parser.add_argument("--communes", required=True, help="comma-separated commune codes")
        parser.add_argument("--identifier", default="", help="agency identifier (mã định danh)")

    def handle(self, *args, **options):
        codes = [c.strip() for c in options["communes"].split(",") if c.strip()]
        try:
            district = define_district(
                code=options["code"],
                name=options["name"],
                province_code=options["province"],
                commune_codes=codes,
                identifier=options["identifier"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(f"{district.name}: {len(codes)} communes grouped.")
