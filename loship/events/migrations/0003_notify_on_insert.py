"""Wake the relay process when an outbox row is written: `NOTIFY loship_outbox` from a statement-level
trigger, so every writer (a service's `record_event`, placement's batched INSERT, a bulk insert) asks
for delivery without one more round trip. PostgreSQL delivers the notification at commit only, and once
per transaction (the payload is empty, so repeated notifications fold into one); a rolled-back
transaction notifies nobody."""

from django.db import migrations

CREATE = """
CREATE FUNCTION events_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('loship_outbox', '');
  RETURN NULL;
END;
$$;
CREATE TRIGGER events_outbox_notify AFTER INSERT ON events_outboxevent
  FOR EACH STATEMENT EXECUTE FUNCTION events_outbox_notify();
"""
DROP = """
DROP TRIGGER IF EXISTS events_outbox_notify ON events_outboxevent;
DROP FUNCTION IF EXISTS events_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("events", "0002_delivery_per_destination")]

    operations = [migrations.RunSQL(CREATE, DROP)]
