"""The weekly schedule of every merchant as columns the nearby list can test inline (no subquery per
merchant): `open_spans` and `spill_spans` are the seconds of the week its intervals cover (the part of
each interval on its own day, and the tail past midnight), `closed_on` its closed dates. Triggers on
opening hours and closed dates keep them current whoever writes (ORM, bulk_create, COPY, admin).

The ORM does not know these columns, so no `save()` can write back a stale copy of them.
"""

from django.db import migrations

SECONDS_PER_DAY = 86_400

FORWARD = f"""
ALTER TABLE merchants_merchant
    ADD COLUMN open_spans int4multirange NOT NULL DEFAULT '{{}}',
    ADD COLUMN spill_spans int4multirange NOT NULL DEFAULT '{{}}',
    ADD COLUMN closed_on date[] NOT NULL DEFAULT '{{}}';

-- merchants.selectors.open_at, in seconds of the week: all day covers the whole day; opens < closes
-- covers [opens, closes); past midnight covers [opens, 24:00) and spills [00:00, closes) into the next
-- day (Sunday's into Monday's).
CREATE FUNCTION merchants_refresh_schedule(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE merchants_merchant m
    SET open_spans = COALESCE((
            SELECT range_agg(int4range(
                h.weekday * {SECONDS_PER_DAY} + CASE WHEN h.o = h.c THEN 0 ELSE h.o END,
                h.weekday * {SECONDS_PER_DAY} + CASE WHEN h.o < h.c THEN h.c ELSE {SECONDS_PER_DAY} END))
            FROM (SELECT weekday, floor(extract(epoch FROM opens_at))::int AS o,
                         floor(extract(epoch FROM closes_at))::int AS c
                  FROM merchants_openinghours WHERE merchant_id = m.id) h), '{{}}'),
        spill_spans = COALESCE((
            SELECT range_agg(int4range(
                (h.weekday + 1) % 7 * {SECONDS_PER_DAY}, (h.weekday + 1) % 7 * {SECONDS_PER_DAY} + h.c))
            FROM (SELECT weekday, floor(extract(epoch FROM opens_at))::int AS o,
                         floor(extract(epoch FROM closes_at))::int AS c
                  FROM merchants_openinghours WHERE merchant_id = m.id) h
            WHERE h.c < h.o), '{{}}'),
        closed_on = ARRAY(SELECT date FROM merchants_closeddate WHERE merchant_id = m.id ORDER BY date)
    WHERE m.id = ANY(ids)
$$;

CREATE FUNCTION merchants_schedule_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM merchants_refresh_schedule(ARRAY(SELECT DISTINCT merchant_id FROM new_rows));
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM merchants_refresh_schedule(ARRAY(SELECT DISTINCT merchant_id FROM old_rows));
    END IF;
    RETURN NULL;
END
$$;
"""

TRIGGERS = []
for table in ("merchants_openinghours", "merchants_closeddate"):
    TRIGGERS += [
        f"CREATE TRIGGER {table}_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION merchants_schedule_changed();",
        f"CREATE TRIGGER {table}_updated AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION merchants_schedule_changed();",
        f"CREATE TRIGGER {table}_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION merchants_schedule_changed();",
    ]

BACKFILL = "SELECT merchants_refresh_schedule(ARRAY(SELECT id FROM merchants_merchant));"

BACKWARD = """
DROP FUNCTION merchants_schedule_changed() CASCADE;
DROP FUNCTION merchants_refresh_schedule(bigint[]);
ALTER TABLE merchants_merchant DROP COLUMN open_spans, DROP COLUMN spill_spans, DROP COLUMN closed_on;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0002_search_indexes"),
    ]

    operations = [
        migrations.RunSQL(FORWARD + "\n".join(TRIGGERS) + BACKFILL, BACKWARD),
    ]
