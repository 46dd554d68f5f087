from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "Merchants"

    def ready(self) -> None:
        from merchants import signals, subscribers

        signals.connect()
        subscribers.register()
