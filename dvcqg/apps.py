from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DvcqgConfig(AppConfig):
    name = "dvcqg"
    verbose_name = _("National portal sync")

    def ready(self) -> None:
        # The dossier history (core.hooks) drives the sync: dossiers does not import this app.
        from core import hooks
        from dvcqg import hooks as dvcqg_hooks
        from dvcqg import tasks  # noqa: F401 (registers the Celery tasks by name)

        hooks.subscribe("dossiers.DossierEvent", dvcqg_hooks.on_dossier_event)
        # The sync rate is a weekly counter of the reports (WeeklyRate), counted here.
        from dvcqg.aggregation import sync_counts
        from reports.services import aggregation

        aggregation.register_measure(sync_counts)
