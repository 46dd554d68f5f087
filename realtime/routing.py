"""WebSocket routes of the live streams (customer order, merchant, ops city feed)."""

from django.urls import URLPattern, URLResolver, path

from realtime import consumers

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/orders/<int:order_id>/", consumers.OrderStreamConsumer.as_asgi()),
    path("ws/merchants/<int:merchant_id>/", consumers.MerchantStreamConsumer.as_asgi()),
    path("ws/ops/city/", consumers.OpsCityConsumer.as_asgi()),
]
