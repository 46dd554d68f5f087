"""WebSocket routes of the drivers app."""

from django.urls import URLPattern, URLResolver, path

from drivers.consumers import DriverConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/driver/", DriverConsumer.as_asgi()),
]
