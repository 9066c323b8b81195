"""Role checks for views: a role without the right gets 403; scoping (404) is in scoping.py."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.models import Role

# Who sees dossiers (each within their scope) and who works the one-stop desk.
DOSSIER_VIEWERS: tuple[str, ...] = (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POSTAL_STAFF, Role.POST_MANAGER)
DESK: tuple[str, ...] = (Role.COMMUNE_OFFICIAL,)


def user_has_role(user, roles: tuple[str, ...]) -> bool:
    return user.is_authenticated and (user.is_administrator or user.role in roles)


def can_work_desk(user) -> bool:
    """Log dossiers, move them through the workflow, import them."""
    return user_has_role(user, DESK)


def role_required(*roles: str):
    """Allow the given roles (administrators always); anonymous users go to the login page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not user_has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
