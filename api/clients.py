"""Creating machine clients: a service user with the scope of a place, and a token shown once."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role, User
from api.models import ApiClient, Scope
from communes.models import AdministrativeUnit, PostOffice


@transaction.atomic
def create_client(
    *,
    name: str,
    scopes: list[str],
    unit: AdministrativeUnit | None = None,
    post_office: PostOffice | None = None,
    rate_per_minute: int = 600,
) -> tuple[ApiClient, str]:
    """The client and its token (the only time the token exists in clear).

    A unit client acts as an official of a commune or a leader of a district or province; a
    post office client as the manager of that office (and the offices under it)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the client a name."))
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown or not scopes:
        raise ValidationError(_("Choose scopes from: %(scopes)s.") % {"scopes": ", ".join(Scope.values)})
    if (unit is None) == (post_office is None):
        raise ValidationError(_("A client acts for exactly one unit or one post office."))
    if rate_per_minute < 1:
        raise ValidationError(_("The rate limit must be at least one request per minute."))
    username = f"api:{name}"[:150]
    if ApiClient.objects.filter(name=name).exists() or User.objects.filter(username=username).exists():
        raise ValidationError(_("An API client with this name exists already."))
    user = User(username=username, full_name=f"API: {name}"[:150])
    user.set_unusable_password()
    if unit is not None:
        user.unit = unit
        user.role = Role.COMMUNE_OFFICIAL if unit.level == AdministrativeUnit.Level.COMMUNE else Role.LEADER
    else:
        user.post_office = post_office
        user.role = Role.POST_MANAGER
    user.save()
    client = ApiClient(name=name, user=user, scopes=sorted(set(scopes)), rate_per_minute=rate_per_minute)
    token = client.new_token()
    client.save()
    return client, token


def rotate_token(*, client: ApiClient) -> str:
    token = client.new_token()
    client.revoked_at = None
    client.save(update_fields=["token_prefix", "token_hash", "revoked_at"])
    return token
