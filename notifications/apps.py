from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Inbox, push (FCM HTTP v1) and email; sends what the order and driver events call for."""

    name = "notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from notifications.subscribers import register

        register()
