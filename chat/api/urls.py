from django.urls import URLPattern, URLResolver, path

from chat.api import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("orders/<int:pk>/chat", views.ChatApi.as_view(), name="order-chat"),
    path("orders/<int:pk>/chat/messages", views.ChatMessageListApi.as_view(), name="order-chat-messages"),
    path("orders/<int:pk>/chat/read", views.ChatReadApi.as_view(), name="order-chat-read"),
]
