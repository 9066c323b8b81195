from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # Writers mark the weeks they change (communes.weekmarks); once their transaction has
        # committed, the freshness debounce schedules the recount (reports/freshness.py).
        from communes import weekmarks
        from reports import freshness, tasks  # noqa: F401 (tasks: registers the Celery tasks by name)

        weekmarks.on_marked(freshness.request_refresh)
