from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API and webhooks")

    def ready(self) -> None:
        # Outbound webhooks follow the history rows every change appends (api/webhooks.py);
        # the tasks are registered by name, which is how webhooks.py queues them.
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from api import tasks, webhooks  # noqa: F401
        from api.authentication import forget_tokens
        from api.models import ApiClient

        webhooks.connect()
        post_save.connect(forget_tokens, sender=ApiClient, dispatch_uid="api-forget-tokens-client")
        post_save.connect(forget_tokens, sender=get_user_model(), dispatch_uid="api-forget-tokens-user")
