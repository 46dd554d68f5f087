from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Partner webhooks: merchants' endpoints, signed order events, the delivery log."""

    name = "webhooks"
    label = "webhooks"
    verbose_name = "Partner webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webhooks.subscribers import register

        register()
