"""Order chat: one thread per order between its customer and its current driver, and its messages.

A thread's messages are numbered 1, 2, 3... (`seq`) under the thread's row lock, so two messages sent
at once keep one order and neither is lost; a client that sees a gap in `seq` fetches the history.
Read receipts are one pointer per side (`customer_read_seq`, `driver_read_seq`): everything up to it
has been read. Message text is stored with phone numbers already masked (chat/masking.py): nothing
that could carry one is kept.
"""

from django.conf import settings
from django.db import models


class ChatRole(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    DRIVER = "driver", "Driver"


class ChatThread(models.Model):
    """The chat of one order, created with its first message or read receipt."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, primary_key=True, related_name="chat_thread"
    )
    last_seq = models.PositiveIntegerField(default=0, help_text="The `seq` of the newest message.")
    customer_read_seq = models.PositiveIntegerField(default=0)
    customer_read_at = models.DateTimeField(null=True, blank=True)
    driver_read_seq = models.PositiveIntegerField(default=0)
    driver_read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    thread = models.ForeignKey(ChatThread, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField()
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_role = models.CharField(max_length=10, choices=ChatRole.choices)
    body = models.TextField(help_text="As sent, with phone numbers masked.")
    masked = models.BooleanField(default=False, help_text="Whether a phone number was masked in it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["thread", "seq"]
        constraints = [models.UniqueConstraint(fields=["thread", "seq"], name="chat_message_seq_once")]
        indexes = [models.Index(fields=["sender", "-created_at"], name="chat_message_sender_recent")]

    def __str__(self) -> str:
        return f"#{self.seq} in {self.thread_id} ({self.sender_role})"
