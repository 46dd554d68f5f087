"""Notifications: the in-app inbox (one row per message a user gets), preferences, and one delivery
attempt row per (notification, channel, target) so a retried task never sends twice."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    ORDER_UPDATES = "order_updates", _("Order updates")
    MARKETING = "marketing", _("Marketing")


class Channel(models.TextChoices):
    PUSH = "push", _("Push (FCM)")
    EMAIL = "email", _("Email")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DEAD_TOKEN = "dead_token", _("Dead device token (pruned)")
    SKIPPED = "skipped", _("Skipped (channel not configured)")


class Notification(models.Model):
    """One message in a user's inbox, rendered in the user's language when it was created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        max_length=64, help_text=_("Template key, e.g. order.accepted."), verbose_name=_("kind")
    )
    category = models.CharField(
        max_length=20, choices=Category.choices, default=Category.ORDER_UPDATES, verbose_name=_("category")
    )
    language = models.CharField(max_length=2, verbose_name=_("language"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    body = models.TextField(verbose_name=_("body"))
    data = models.JSONField(
        default=dict, blank=True, help_text=_("For the app: order_id, code..."), verbose_name=_("data")
    )
    source_event_id = models.UUIDField(
        null=True, blank=True, help_text=_("The outbox event behind it."), verbose_name=_("source event id")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    order_updates = models.BooleanField(default=True, verbose_name=_("order updates"))
    marketing = models.BooleanField(default=True, verbose_name=_("marketing"))
    push = models.BooleanField(default=True, verbose_name=_("push"))
    email = models.BooleanField(default=True, verbose_name=_("email"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


class DeliveryAttempt(models.Model):
    """Sending one notification over one channel to one target (a device token or an address).

    The row is the durable copy of the send, whatever happens to its Celery message: while pending,
    `next_attempt_at` is when the sweep sends it if no task has (NOTIFICATIONS_SEND_GRACE_SECONDS after
    it is written, then the backoff after each failure)."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, verbose_name=_("channel"))
    target = models.CharField(max_length=512, verbose_name=_("target"))
    status = models.CharField(
        max_length=12,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    provider_ref = models.CharField(
        max_length=255, blank=True, help_text=_("FCM message name."), verbose_name=_("provider ref")
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
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
