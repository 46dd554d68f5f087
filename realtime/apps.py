from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Live streams: registers the relay of order events to the Channels groups."""

    name = "realtime"
    label = "realtime"
    verbose_name = "Realtime (WebSocket streams)"

    def ready(self) -> None:
        from realtime.relay import register

        register()
