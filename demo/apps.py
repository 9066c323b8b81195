from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data for trying PostDesk and for the benchmarks: ``manage.py seed_demo``.

    The top layer: it imports every app and no app imports it. Nothing here runs unless the
    command is called, so having it installed costs a production site nothing.
    """

    name = "demo"
    verbose_name = _("Demo data")
