"""Who may do what in the post office network (administrators always may).

Everyone reads the registry and the plan within their scope; these roles change them or see the
network overview. Views check them with ``accounts.permissions`` (403), services again.
"""

from accounts.models import Role
from accounts.permissions import user_has_role

# Post managers run the network: they edit offices, import them and record improvement actions.
NETWORK_EDITORS: tuple[str, ...] = (Role.POST_MANAGER,)
# Leaders follow the network on the overview page, as post managers do.
NETWORK_OVERVIEW: tuple[str, ...] = (Role.LEADER, Role.POST_MANAGER)


def can_edit_network(user) -> bool:
    return user_has_role(user, NETWORK_EDITORS)
