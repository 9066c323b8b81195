from django.apps import AppConfig
from django.db.models.signals import post_init, post_save
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # Late and backdated changes mark past weeks for recomputation (reports/signals.py).
        from dossiers.models import Dossier
        from postal.models import ItemEvent, PostalItem
        from reports import signals, tasks  # noqa: F401 (tasks: registers the Celery tasks by name)

        post_init.connect(signals.remember_dossier, sender=Dossier, dispatch_uid="reports-dossier-init")
        post_save.connect(signals.dossier_saved, sender=Dossier, dispatch_uid="reports-dossier-saved")
        post_init.connect(signals.remember_item, sender=PostalItem, dispatch_uid="reports-item-init")
        post_save.connect(signals.item_saved, sender=PostalItem, dispatch_uid="reports-item-saved")
        post_save.connect(signals.item_event_saved, sender=ItemEvent, dispatch_uid="reports-event-saved")
