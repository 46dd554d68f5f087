from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RealtimeConfig(AppConfig):
    """Live streams: registers the relay of order events to the Channels groups."""

    name = "realtime"
    label = "realtime"
    verbose_name = _("Realtime (WebSocket streams)")

    def ready(self) -> None:
        from realtime.relay import register

        register()
