from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PostalConfig(AppConfig):
    name = "postal"
    verbose_name = _("Postal")

    def ready(self) -> None:
        # The leaders' network page (communes) shows transfer progress from this app.
        from communes import panels
        from dossiers import editing, tracking
        from postal import list_filters
        from postal.selectors import active_return_item, public_progress, transfer_progress

        list_filters.register()

        panels.register(
            "transfer_progress",
            template_name="postal/fragment_network_transfer_panel.html",
            context=lambda request: {"progress": transfer_progress(request.user)},
        )
        # The citizens' lookup (dossiers) shows where the dossier's postal items are.
        tracking.register("postal_progress", public_progress)
        # A dossier whose result is with the post keeps the address the item was given.
        editing.register_in_use_check(lambda dossier: active_return_item(dossier) is not None)
