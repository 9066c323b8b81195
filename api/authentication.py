"""Bearer tokens of machine clients (``Authorization: Bearer pdk_…``)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.models import ApiClient, hash_token

# Recording every use would add a write to every request; once a minute says enough.
LAST_USE_PRECISION = timedelta(minutes=1)
# A token's client, its service user and their scope (the units and offices it may see) are read
# from the database at most once every TOKEN_CACHE_SECONDS per process instead of on every
# request: a revoked token, a deactivated user or a changed scope takes effect within this delay
# in every worker (at once in the process that made the change, see forget_tokens).
TOKEN_CACHE_SECONDS = 10
_tokens: dict[str, tuple[float, ApiClient]] = {}


def forget_tokens(*args, **kwargs) -> None:
    """Read every token afresh (connected to saves of clients and users in ApiConfig.ready)."""
    _tokens.clear()


def _client_for(token: str) -> ApiClient | None:
    from communes import scoping

    key = hash_token(token)
    now = time.monotonic()
    cached = _tokens.get(key)
    if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    client = ApiClient.objects.select_related("user").filter(token_hash=key).first()
    if client is None:
        _tokens.pop(key, None)
        return None
    client.user.api_client = client
    scoping.unit_ids(client.user)  # worked out once and kept on the user
    scoping.post_office_ids(client.user)
    if len(_tokens) > 1000:  # tokens of clients that stopped calling
        _tokens.clear()
    _tokens[key] = (now, client)
    return client


class ClientTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be “Bearer <token>”."))
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        client = _client_for(token)
        if client is None or not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid or has been revoked."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USE_PRECISION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return client.user, client

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def client_of(request) -> ApiClient | None:
    """The machine client behind a request, or None for a signed-in person."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None
