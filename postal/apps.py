from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostalConfig(AppConfig):
    name = "postal"
    verbose_name = _("Postal")

    def ready(self) -> None:
        # The leaders' network page (communes) shows transfer progress from this app.
        from communes import panels
        from dossiers import tracking
        from postal.selectors import public_progress, transfer_progress

        panels.register(
            "transfer_progress",
            template_name="postal/fragment_network_transfer_panel.html",
            context=lambda request: {"progress": transfer_progress(request.user)},
        )
        # The citizens' lookup (dossiers) shows where the dossier's postal items are.
        tracking.register("postal_progress", public_progress)
