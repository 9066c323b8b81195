from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API and webhooks")

    def ready(self) -> None:
        # Outbound webhooks follow the history rows every change appends (api/webhooks.py);
        # the tasks are registered by name, which is how webhooks.py queues them.
        from api import tasks, webhooks  # noqa: F401

        webhooks.connect()
