"""Scopes of machine clients and roles of signed-in people, per endpoint."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from accounts.models import Role
from accounts.permissions import user_has_role
from api.authentication import client_of

# People who may read the API with their session: the same roles as the matching screens.
READ_ROLES = {
    "dossiers:read": (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POSTAL_STAFF, Role.POST_MANAGER),
    "reports:read": (Role.COMMUNE_OFFICIAL, Role.LEADER),
}


class ScopeRequired(permissions.BasePermission):
    """A client needs the view's scope for the method; a person with a session may only read,
    with the role of the screen that shows the same data."""

    message = _("This token does not have the scope this request needs.")

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        scope = view.required_scopes.get(request.method)
        if scope is None:
            # A method the endpoint does not have: let the view answer 405.
            return request.method not in getattr(view, "allowed_methods", ()) or request.method == "OPTIONS"
        client = client_of(request)
        if client is not None:
            return client.has_scope(scope)
        roles = READ_ROLES.get(scope)
        if request.method not in permissions.SAFE_METHODS or roles is None:
            self.message = _("Changes through the API need a client token; sign-in sessions may only read.")
            return False
        return user_has_role(request.user, roles)
