"""What the privacy app adds to a dossier's history, in words (core.labels)."""

from django.utils.translation import gettext_lazy as _

from core.labels import EventLabel, register

register(
    "privacy",
    {
        "dossier.anonymised": EventLabel(
            _("Applicant's personal data anonymised (retention)"),
            _("after %(retention_years)s years"),
        ),
    },
)
