from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers")

    def ready(self):
        from dossiers import calendar, search, workdays

        connection_created.connect(search.register_sqlite_fold, dispatch_uid="dossiers-sqlite-fold")

        workdays.set_override_loader(calendar.load_overrides)
        override = self.get_model("CalendarOverride")
        post_save.connect(calendar.overrides_changed, sender=override, dispatch_uid="calendar-override-saved")
        post_delete.connect(
            calendar.overrides_changed, sender=override, dispatch_uid="calendar-override-deleted"
        )
