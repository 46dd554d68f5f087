"""WebSocket routes of cross-cutting streams (ops city feed)."""

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
