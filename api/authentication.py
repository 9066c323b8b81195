"""Bearer tokens of machine clients (``Authorization: Bearer pdk_…``)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from api.models import ApiClient, hash_token

# Recording every use would add a write to every request; once a minute says enough.
LAST_USE_PRECISION = timedelta(minutes=1)
# A client's scope (the units and offices its service user may see) is the same for every
# request; it is worked out once a minute per process instead of on every tracking event.
SCOPE_SECONDS = 60
_scopes: dict[str, tuple[float, set[int] | None, set[int] | None]] = {}


def _remember_scope(client: ApiClient) -> None:
    from communes import scoping

    user, key = client.user, client.token_hash  # a new token starts afresh
    cached = _scopes.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < SCOPE_SECONDS:
        user._scope_unit_ids, user._scope_post_office_ids = cached[1], cached[2]
        return
    _scopes[key] = (now, scoping.unit_ids(user), scoping.post_office_ids(user))


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
        client = ApiClient.objects.select_related("user").filter(token_hash=hash_token(token)).first()
        if client is None or not client.is_active or not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token is not valid or has been revoked."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at > LAST_USE_PRECISION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        client.user.api_client = client
        _remember_scope(client)
        return client.user, client

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def client_of(request) -> ApiClient | None:
    """The machine client behind a request, or None for a signed-in person."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiClient) else None


class ClientTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes client tokens."""

    target_class = ClientTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A client token, pdk_…"}
