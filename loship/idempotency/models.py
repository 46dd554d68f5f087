"""The `Idempotency-Key`s users sent, so that the same request sent again runs once."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A user's `Idempotency-Key`, the fingerprint of the request it first came with, and the id of what
    that request made or acted on (an order, a rating's order, an address...), which a repeat answers.

    The unique (user, key) is what makes concurrent retries run the request exactly once: the row is
    inserted in the request's own transaction, so a racing repeat waits for it to commit or roll back.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    result_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
