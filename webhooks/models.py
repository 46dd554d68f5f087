"""Partner webhooks: a merchant's endpoints (a POS system, an integrator) and the log of what was sent
to them, one row per (endpoint, outbox event).

The delivery row is the durable copy of a send, like a notification's delivery attempt: the exact
body is stored once, retried from `next_attempt_at` until `give_up_at` (24 hours after the event,
or after a manual redelivery), and its last try's answer is kept for the log.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant
from orders.models import OrderEventKind

#: The events a partner may subscribe to: every order event's outbox topic.
EVENT_TYPES: tuple[str, ...] = tuple(kind.topic for kind in OrderEventKind)


class WebhookEndpoint(models.Model):
    """A URL of a merchant's partner and the order events it wants, signed with its own secret.

    `sealed_secret` is the signing secret encrypted (webhooks/sealing.py); the secret itself is shown
    once, when the endpoint is made. `consecutive_failures` counts failed tries in a row since
    `failing_since`; a streak long and old enough disables the endpoint (`disabled_at`)."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("merchant")
    )
    url = models.URLField(max_length=500, verbose_name=_("url"))
    events = ArrayField(
        models.CharField(max_length=64),
        help_text=_("Order event types, e.g. order.placed."),
        verbose_name=_("events"),
    )
    description = models.CharField(max_length=200, blank=True, verbose_name=_("description"))
    sealed_secret = models.TextField(editable=False, verbose_name=_("sealed secret"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    disabled_reason = models.CharField(max_length=255, blank=True, verbose_name=_("disabled reason"))
    consecutive_failures = models.PositiveIntegerField(default=0, verbose_name=_("consecutive failures"))
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["id"]
        indexes = [models.Index(fields=["merchant"], condition=Q(is_active=True), name="webhook_active")]

    def __str__(self) -> str:
        return f"{self.url} ({self.merchant_id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")
    CANCELLED = "cancelled", _("Cancelled (endpoint disabled)")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the body as sent, where its tries stand, and the last answer."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event_id = models.UUIDField(
        help_text=_("The outbox event; receivers deduplicate by it."), verbose_name=_("event id")
    )
    topic = models.CharField(max_length=64, verbose_name=_("topic"))
    order_id = models.BigIntegerField(verbose_name=_("order id"))
    sequence = models.PositiveIntegerField(
        default=0, help_text=_("The order's version in this event."), verbose_name=_("sequence")
    )
    body = models.TextField(
        help_text=_("The JSON sent, the same bytes on every try."), verbose_name=_("body")
    )
    status = models.CharField(
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    give_up_at = models.DateTimeField(verbose_name=_("give up at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    response_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("response code"))
    latency_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("latency ms"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_pending_due"
            ),
            models.Index(fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} -> endpoint {self.endpoint_id} ({self.status})"
