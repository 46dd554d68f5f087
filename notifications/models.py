"""Notifications: the in-app inbox (one row per message a user gets), preferences, and one delivery
attempt row per (notification, channel, target) so a retried task never sends twice."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Category(models.TextChoices):
    ORDER_UPDATES = "order_updates", "Order updates"
    MARKETING = "marketing", "Marketing"


class Channel(models.TextChoices):
    PUSH = "push", "Push (FCM)"
    EMAIL = "email", "Email"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DEAD_TOKEN = "dead_token", "Dead device token (pruned)"
    SKIPPED = "skipped", "Skipped (channel not configured)"


class Notification(models.Model):
    """One message in a user's inbox, rendered in the user's language when it was created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64, help_text="Template key, e.g. order.accepted.")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.ORDER_UPDATES)
    language = models.CharField(max_length=2)
    title = models.CharField(max_length=200)
    body = models.TextField()
    data = models.JSONField(default=dict, blank=True, help_text="For the app: order_id, code...")
    source_event_id = models.UUIDField(null=True, blank=True, help_text="The outbox event behind it.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]
        constraints = [
            # An event notifies a user once, however often the relay delivers it.
            models.UniqueConstraint(
                fields=["user", "source_event_id", "kind"],
                condition=Q(source_event_id__isnull=False),
                name="notification_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} -> {self.user_id}"


class NotificationPreference(models.Model):
    """What a user wants beyond the inbox. Order updates always land in the inbox; `order_updates`
    decides push/email for them. `marketing` off mutes marketing everywhere."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    order_updates = models.BooleanField(default=True)
    marketing = models.BooleanField(default=True)
    push = models.BooleanField(default=True)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class DeliveryAttempt(models.Model):
    """Sending one notification over one channel to one target (a device token or an address).

    The row is the durable copy of the send, whatever happens to its Celery message: while pending,
    `next_attempt_at` is when the sweep sends it if no task has (NOTIFICATIONS_SEND_GRACE_SECONDS after
    it is written, then the backoff after each failure)."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    target = models.CharField(max_length=512)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_ref = models.CharField(max_length=255, blank=True, help_text="FCM message name.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending_due"
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel", "target"], name="delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.notification_id} ({self.status})"
