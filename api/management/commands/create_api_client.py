"""manage.py create_api_client NAME --unit CODE|--post-office CODE --scopes a,b

Prints the token once; only its hash is stored. ``--rotate`` issues a new token for an existing
client (the old one stops working), ``--revoke`` switches the client off.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.clients import create_client, rotate_token
from api.models import ApiClient, Scope
from communes.models import AdministrativeUnit, PostOffice


class Command(BaseCommand):
    help = "Create a machine client of the API (a provincial system, a carrier) and print its token once."

    def add_arguments(self, parser):
        parser.add_argument("name")
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--unit", help="code of the unit whose scope the client has")
        where.add_argument("--post-office", help="code of the post office whose scope the client has")
        parser.add_argument("--scopes", default="", help=f"comma-separated, from: {', '.join(Scope.values)}")
        parser.add_argument("--rate", type=int, default=600, help="requests per minute (default 600)")
        parser.add_argument("--rotate", action="store_true", help="issue a new token for an existing client")
        parser.add_argument("--revoke", action="store_true", help="revoke an existing client's token")

    def handle(self, *args, name, unit, post_office, scopes, rate, rotate, revoke, **options):
        if rotate or revoke:
            client = ApiClient.objects.filter(name=name).first()
            if client is None:
                raise CommandError(f"No API client is named {name!r}.")
            if revoke:
                client.revoke()
                self.stdout.write(f"Token of {name} revoked.")
                return
            self._print(client, rotate_token(client=client))
            return
        place = office = None
        if unit:
            place = AdministrativeUnit.objects.filter(code=unit).first()
            if place is None:
                raise CommandError(f"No unit has the code {unit!r}.")
        elif post_office:
            office = PostOffice.objects.filter(code=post_office).first()
            if office is None:
                raise CommandError(f"No post office has the code {post_office!r}.")
        try:
            client, token = create_client(
                name=name,
                scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
                unit=place,
                post_office=office,
                rate_per_minute=rate,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self._print(client, token)

    def _print(self, client: ApiClient, token: str) -> None:
        self.stdout.write(f"API client {client.name}: scopes {', '.join(client.scopes)}")
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(token)
