"""manage.py create_api_client NAME --unit CODE|--post-office CODE --scopes a,b

Prints the token once; only its hash is stored. Run it again with --rotate to issue a new token
(the old one stops working) or --revoke to switch the client off.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User
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
            token = client.new_token()
            client.revoked_at = None
            client.save()
            self._print(client, token)
            return
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        unknown = sorted(set(wanted) - set(Scope.values))
        if unknown or not wanted:
            raise CommandError(f"Give --scopes from: {', '.join(Scope.values)} (unknown: {', '.join(unknown)}).")
        if rate < 1:
            raise CommandError("--rate must be at least 1.")
        if ApiClient.objects.filter(name=name).exists():
            raise CommandError(f"An API client named {name!r} exists; use --rotate for a new token.")
        user = User(username=f"api:{name}"[:150], full_name=f"API: {name}"[:150])
        user.set_unusable_password()
        if unit:
            place = AdministrativeUnit.objects.filter(code=unit).first()
            if place is None:
                raise CommandError(f"No unit has the code {unit!r}.")
            user.unit = place
            user.role = Role.COMMUNE_OFFICIAL if place.level == AdministrativeUnit.Level.COMMUNE else Role.LEADER
        elif post_office:
            office = PostOffice.objects.filter(code=post_office).first()
            if office is None:
                raise CommandError(f"No post office has the code {post_office!r}.")
            user.post_office = office
            user.role = Role.POST_MANAGER  # the office and every office under it
        else:
            raise CommandError("Give --unit CODE or --post-office CODE: the client acts within that scope.")
        with transaction.atomic():
            if User.objects.filter(username=user.username).exists():
                raise CommandError(f"A user named {user.username!r} exists already.")
            user.save()
            client = ApiClient(name=name, user=user, scopes=wanted, rate_per_minute=rate)
            token = client.new_token()
            client.save()
        self._print(client, token)

    def _print(self, client: ApiClient, token: str) -> None:
        self.stdout.write(f"API client {client.name}: scopes {', '.join(client.scopes)}")
        self.stdout.write("Token (shown once, store it now):")
        self.stdout.write(token)
