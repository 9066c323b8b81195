from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "notify"
    verbose_name = _("Citizen notices")

    def ready(self) -> None:
        # Notices follow the history the apps below append (core.hooks), and show on their pages
        # through their panel slots: neither dossiers nor postal imports this app.
        from django.db.models.signals import post_delete, post_save

        from core import hooks
        from notify import hooks as notify_hooks
        from notify import panels, tasks  # noqa: F401 (tasks: registers the Celery tasks by name)
        from notify.models import MessageTemplate
        from notify.services import forget_templates

        # The templates are cached per process (notify.services.template_text).
        post_save.connect(forget_templates, sender=MessageTemplate, dispatch_uid="notify-templates-saved")
        post_delete.connect(forget_templates, sender=MessageTemplate, dispatch_uid="notify-templates-deleted")

        hooks.subscribe("dossiers.DossierEvent", notify_hooks.on_dossier_event)
        hooks.subscribe("postal.ItemEvent", notify_hooks.on_item_event)
        panels.register()
        # Satisfaction is a weekly counter of the reports (WeeklyRate), counted here.
        from notify.aggregation import rating_counts
        from reports.services import aggregation

        aggregation.register_measure(rating_counts)
