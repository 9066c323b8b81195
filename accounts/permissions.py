"""Who may do what: every role check of the application, in one place.

Views check a group with ``role_required`` (a role without the right gets 403; administrators
always pass); menus, templates and services ask the ``can_*`` functions. Which objects a user
may see is scoping (404), in ``communes/scoping.py``.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from accounts.models import Role

Roles = tuple[str, ...]

# Every role that acts for a unit or an office: they all see dossiers, items and handovers
# within their scope.
EVERYONE: Roles = (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POSTAL_STAFF, Role.POST_MANAGER)
DOSSIER_VIEWERS: Roles = EVERYONE
# The one-stop desk: logs dossiers, moves them through the workflow, imports them.
DESK: Roles = (Role.COMMUNE_OFFICIAL,)
# Postal staff and their managers: scans, deliveries, BCCI intake, appointments.
POSTAL: Roles = (Role.POSTAL_STAFF, Role.POST_MANAGER)
# Both sides of a handover record (biên bản giao nhận).
HANDOVER_PARTIES: Roles = (*POSTAL, *DESK)
# Leaders: targets, recomputations, exports of the weekly rates.
LEADERS: Roles = (Role.LEADER,)
# The weekly-rate dashboard: leaders, and commune officials for their own commune.
DASHBOARD_READERS: Roles = (Role.LEADER, Role.COMMUNE_OFFICIAL)
# Post managers run the network: they edit offices, import them and record improvement actions.
NETWORK_EDITORS: Roles = (Role.POST_MANAGER,)
# Leaders follow the network on the overview page, as post managers do.
NETWORK_OVERVIEW: Roles = (Role.LEADER, Role.POST_MANAGER)
# The registry and map of post offices.
NETWORK_READERS: Roles = (Role.COMMUNE_OFFICIAL, Role.LEADER, Role.POST_MANAGER)
# Task transfers to postal staff are planned by post managers and leaders.
TRANSFER_PLANNERS: Roles = (Role.POST_MANAGER, Role.LEADER)


def user_has_role(user, roles: Roles) -> bool:
    """Signed in with one of ``roles``, or an administrator."""
    return user.is_authenticated and (user.is_administrator or user.role in roles)


def acts_as(user, roles: Roles) -> bool:
    """The user's own role is one of ``roles`` (administrators act for no unit or office, so
    they get no desk- or post-side controls)."""
    return user.is_authenticated and user.role in roles


def can_work_desk(user) -> bool:
    return user_has_role(user, DESK)


def can_edit_network(user) -> bool:
    return user_has_role(user, NETWORK_EDITORS)


def can_plan_transfers(user) -> bool:
    return user_has_role(user, TRANSFER_PLANNERS)


def can_lead(user) -> bool:
    """Set targets, ask for recomputations, export the weekly rates."""
    return user_has_role(user, LEADERS)


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
