from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data")

    def ready(self) -> None:
        # The dossier timeline labels its events from dossiers.selectors.EVENT_LABELS; the
        # retention event is this app's, so its label is registered from here (imports go
        # downward only: dossiers never imports privacy).
        from dossiers import selectors
        from privacy.retention import EVENT_ACTION

        selectors.EVENT_LABELS.setdefault(EVENT_ACTION, _("Applicant's personal data anonymised (retention)"))
