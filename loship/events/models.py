"""The transactional outbox: what must be delivered, written in the same transaction as the change."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models


class OutboxEvent(models.Model):
    """One domain event (e.g. `order.accepted`), published after commit by the relay.

    `sequence` orders the events of one aggregate (an order's version), so a client that sees a gap
    knows to fetch the snapshot.

    Delivery is tracked per destination (a subscriber's name): `delivered_to` lists those that have
    it, `failed_to` those the relay gave up on after `OUTBOX_MAX_ATTEMPTS`; the event is published once
    every destination is in one of them. A failing destination is retried after `next_attempt_at`
    (exponential backoff) without holding up, or repeating, the others.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=64)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Relay passes in which a destination failed."
    )
    delivered_to = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    failed_to = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], condition=models.Q(published_at__isnull=True), name="outbox_unpublished"
            ),
            models.Index(fields=["aggregate_type", "aggregate_id", "sequence"]),
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.aggregate_type}:{self.aggregate_id}#{self.sequence}"
