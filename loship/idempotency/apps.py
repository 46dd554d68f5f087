from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "loship.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
