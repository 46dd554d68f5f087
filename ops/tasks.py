from celery import shared_task

from ops.headroom import Level
from ops.services import check_headroom


@shared_task(name="ops.tasks.check_headroom", ignore_result=True)
def check_headroom_task() -> int:
    """Beat: compare live load with the measured limits; returns how many figures are in alert."""
    return sum(1 for reading in check_headroom() if reading.level == Level.ALERT)
