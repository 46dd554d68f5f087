from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    """Partner webhooks: merchants' endpoints, signed order events, the delivery log."""

    name = "webhooks"
    label = "webhooks"
    verbose_name = _("Partner webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks.subscribers import register

        register()
