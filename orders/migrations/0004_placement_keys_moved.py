"""Placement's `Idempotency-Key`s move to the one key table every endpoint shares
(`idempotency.IdempotencyKey`, where the order is the key's `result_id`). Going back forgets the keys:
they only matter for the minutes an app retries a placement."""

from django.db import migrations

COPY = """
INSERT INTO idempotency_idempotencykey (user_id, key, request_hash, result_id, created_at)
SELECT customer_id, key, request_hash, order_id, created_at FROM orders_placementkey
ON CONFLICT (user_id, key) DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_order_event_kind_choices"),
        ("idempotency", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(COPY, reverse_sql=migrations.RunSQL.noop),
        migrations.DeleteModel(name="PlacementKey"),
    ]
