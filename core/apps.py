from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app shares: the append-only history base, read-only admins, the state-machine
    step, time-zone and spreadsheet helpers. The bottom layer: it imports no other app."""

    name = "core"
    verbose_name = _("Core")
