from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Inbox, push (FCM HTTP v1) and email; subscribes to order events to tell customers and merchants."""

    name = "loship.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from loship.notifications.subscribers import register

        register()
