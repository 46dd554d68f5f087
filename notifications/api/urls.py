from django.urls import path

from notifications.api import views

urlpatterns = [
    path("me/notifications", views.NotificationListApi.as_view(), name="notification-list"),
    path("me/notifications/unread-count", views.UnreadCountApi.as_view(), name="notification-unread-count"),
    path("me/notifications/read-all", views.MarkAllReadApi.as_view(), name="notification-read-all"),
    path("me/notifications/<int:pk>/read", views.MarkReadApi.as_view(), name="notification-read"),
    path("me/notification-preferences", views.PreferenceApi.as_view(), name="notification-preferences"),
]
