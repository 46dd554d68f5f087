from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Order chat between the customer and the driver: registers its outbox destinations."""

    name = "chat"
    label = "chat"
    verbose_name = "Order chat"

    def ready(self) -> None:
        from chat.subscribers import register

        register()
