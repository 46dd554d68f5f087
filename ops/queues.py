"""How many Celery tasks wait in each queue, read straight from the broker's Redis lists (the broker's own
Redis when CELERY_BROKER_URL names one)."""

from django.conf import settings

from loship.celery import QUEUES
from loship.redis_client import broker_client

# kombu's Redis transport keeps one list per queue and priority step: "<queue>", "<queue>\x06\x163", ...
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def queue_depths() -> dict[str, int]:
    """Tasks waiting in each Celery queue (Redis list lengths, every priority step)."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    pipe = broker_client().pipeline(transaction=False)
    for queue in QUEUES:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(f"{prefix}{queue}{suffix}")
    lengths = pipe.execute()
    step = len(_PRIORITY_SUFFIXES)
    return {queue: sum(lengths[i * step : (i + 1) * step]) for i, queue in enumerate(QUEUES)}
