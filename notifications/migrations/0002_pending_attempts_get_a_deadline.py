"""Pending delivery attempts written before the sweep read deadlines had none (NULL meant "queued, not
yet tried"); they get one now, so the sweep, which only looks at `next_attempt_at`, sends them."""

from django.db import migrations
from django.db.models import F


def give_pending_attempts_a_deadline(apps, schema_editor):  # type: ignore[no-untyped-def]
    DeliveryAttempt = apps.get_model("notifications", "DeliveryAttempt")
    DeliveryAttempt.objects.filter(status="pending", next_attempt_at__isnull=True).update(
        next_attempt_at=F("created_at")
    )


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]

    operations = [migrations.RunPython(give_pending_attempts_a_deadline, migrations.RunPython.noop)]
