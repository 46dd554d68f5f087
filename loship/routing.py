"""WebSocket routes of every app, collected in one list for the ASGI router."""

from django.urls import URLPattern, URLResolver

from drivers.routing import websocket_urlpatterns as driver_routes
from merchants.routing import websocket_urlpatterns as merchant_routes
from orders.routing import websocket_urlpatterns as order_routes
from realtime.routing import websocket_urlpatterns as realtime_routes

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    *realtime_routes,
    *merchant_routes,
    *order_routes,
    *driver_routes,
]
