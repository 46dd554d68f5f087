from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    """Order chat between the customer and the driver: registers its outbox destinations."""

    name = "chat"
    label = "chat"
    verbose_name = _("Order chat")

    def ready(self) -> None:
        from chat.subscribers import register

        register()
