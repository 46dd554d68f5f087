"""Order chat: one thread per order between its customer and its current driver, and its messages.

A thread's messages are numbered 1, 2, 3... (`seq`) under the thread's row lock, so two messages sent
at once keep one order and neither is lost; a client that sees a gap in `seq` fetches the history.
Read receipts are one pointer per side (`customer_read_seq`, `driver_read_seq`): everything up to it
has been read. Message text is stored with phone numbers already masked (chat/masking.py): nothing
that could carry one is kept.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChatRole(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    DRIVER = "driver", _("Driver")


class ChatThread(models.Model):
    """The chat of one order, created with its first message or read receipt."""

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="chat_thread",
        verbose_name=_("order"),
    )
    last_seq = models.PositiveIntegerField(
        default=0, help_text=_("The `seq` of the newest message."), verbose_name=_("last seq")
    )
    customer_read_seq = models.PositiveIntegerField(default=0, verbose_name=_("customer read seq"))
    customer_read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("customer read at"))
    driver_read_seq = models.PositiveIntegerField(default=0, verbose_name=_("driver read seq"))
    driver_read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("driver read at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("chat thread")
        verbose_name_plural = _("chat threads")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer_read_seq__lte=models.F("last_seq"))
                & models.Q(driver_read_seq__lte=models.F("last_seq")),
                name="chat_read_within_thread",
            )
        ]

    def __str__(self) -> str:
        return f"chat of order {self.order_id}"

    def read_seq(self, role: str) -> int:
        return self.customer_read_seq if role == ChatRole.CUSTOMER else self.driver_read_seq


class ChatMessage(models.Model):
    thread = models.ForeignKey(
        ChatThread, on_delete=models.CASCADE, related_name="messages", verbose_name=_("thread")
    )
    seq = models.PositiveIntegerField(verbose_name=_("seq"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("sender")
    )
    sender_role = models.CharField(max_length=10, choices=ChatRole.choices, verbose_name=_("sender role"))
    body = models.TextField(help_text=_("As sent, with phone numbers masked."), verbose_name=_("body"))
    masked = models.BooleanField(
        default=False, help_text=_("Whether a phone number was masked in it."), verbose_name=_("masked")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["thread", "seq"]
        constraints = [models.UniqueConstraint(fields=["thread", "seq"], name="chat_message_seq_once")]
        indexes = [models.Index(fields=["sender", "-created_at"], name="chat_message_sender_recent")]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.thread_id} ({self.sender_role})"
