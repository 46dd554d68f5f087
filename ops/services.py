"""Writes of the ops app: measured capacity and headroom alerts."""

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from loship.events.services import record_event
from loship.metrics import HEADROOM_ALERTS
from loship.metrics_fleet import fleet_families, fleet_value
from ops.headroom import Level, Reading, current_readings, record_fix_sample
from ops.models import Capacity, HeadroomAlert
from ops.notify import notify_ops

logger = logging.getLogger(__name__)

ALERT_TOPIC = "ops.headroom_alert"


def record_capacity(*, figure: str, limit: float, source: str, basis: str, measured_at: datetime) -> Capacity:
    """Store (or replace) the measured limit of one load figure."""
    capacity, _ = Capacity.objects.update_or_create(
        figure=figure, defaults={"limit": limit, "source": source, "basis": basis, "measured_at": measured_at}
    )
    return capacity


def check_headroom() -> list[Reading]:
    """Compare live load with the measured limits: open an alert (log at ERROR, notify ops, outbox
    event for the live dashboard) when a load reaches 40% of its limit, close it once it is back under,
    warn in the log under 10x headroom. Safe to run concurrently (one open alert per figure)."""
    families = fleet_families()  # the fleet's snapshots, read once for the sample and the loads
    record_fix_sample(total=fleet_value("loship_location_fixes_total", families=families))
    readings = current_readings(families=families)
    for reading in readings:
        if reading.level == Level.ALERT:
            _raise_alert(reading)
        else:
            _close_alert(reading)
            if reading.level == Level.WARNING:
                logger.warning(
                    "headroom under 10x: %s load %.2f of limit %.2f (%.1fx)",
                    reading.figure,
                    reading.load,
                    reading.limit,
                    reading.headroom,
                    extra={"figure": reading.figure, "headroom": reading.headroom},
                )
    return readings


def _raise_alert(reading: Reading) -> None:
    assert reading.limit is not None
    try:
        with transaction.atomic():
            open_alert = HeadroomAlert.objects.select_for_update().filter(
                figure=reading.figure, closed_at__isnull=True
            )
            current = open_alert.first()
            if current is not None:
                if reading.load > current.peak_load:
                    current.peak_load = reading.load
                    current.save(update_fields=["peak_load"])
                return
            alert = HeadroomAlert.objects.create(
                figure=reading.figure, load=reading.load, peak_load=reading.load, limit=reading.limit
            )
            alert.notified_via = notify_ops(figure=reading.figure, load=reading.load, limit=reading.limit)
            alert.save(update_fields=["notified_via"])
            record_event(
                topic=ALERT_TOPIC,
                aggregate_type="ops",
                aggregate_id=alert.pk,
                payload={
                    "figure": reading.figure,
                    "label": reading.label,
                    "load": reading.load,
                    "limit": reading.limit,
                    "headroom": reading.headroom,
                },
            )
    except IntegrityError:
        return  # another check opened it at the same moment
    HEADROOM_ALERTS.labels(figure=reading.figure).inc()
    logger.error(
        "headroom alert: %s load %.2f passed 40%% of the measured limit %.2f (%.1fx headroom)",
        reading.figure,
        reading.load,
        reading.limit,
        reading.headroom,
        extra={"figure": reading.figure, "load": reading.load, "limit": reading.limit},
    )


def _close_alert(reading: Reading) -> None:
    closed = HeadroomAlert.objects.filter(figure=reading.figure, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if closed:
        logger.info("headroom alert closed: %s back to %.2f", reading.figure, reading.load)
