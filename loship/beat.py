"""Celery beat that sends only while it holds a Redis lock, so two beats started by mistake (a deploy
that overlaps the old pod, a second `beat` container) never send each periodic task twice.

django-celery-beat's DatabaseScheduler keeps the schedule in PostgreSQL but takes no lock: every beat
process sends every due task. The tasks are idempotent, but a doubled dispatch round or sweep is
wasted work at the busiest moment. Here each tick first takes or renews a lease (SET NX PX with this
process's token, renewed only by its holder); a beat without the lease sends nothing and asks again a
few seconds later, and takes over within LEASE_SECONDS of the holder dying. The lease is kept in the
broker's Redis (CELERY_BROKER_URL), the one server beat needs to send at all."""

import logging
import secrets
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler

from loship.redis_client import broker_client

logger = logging.getLogger(__name__)

LOCK_KEY = "loship:beat:lock"
LEASE_SECONDS = 30
# A beat without the lease asks again this often (seconds).
STANDBY_TICK_SECONDS = 5.0

# Renew only a lease this process holds; take a free one; else report who holds it.
_TAKE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class BeatLease:
    """One process's claim on the beat lease."""

    def __init__(self, key: str = LOCK_KEY, lease_seconds: float = LEASE_SECONDS) -> None:
        self.key = key
        self.lease_ms = int(lease_seconds * 1000)
        self.token = secrets.token_hex(16)

    def hold(self) -> bool:
        """Take the lease if free, renew it if ours: True while this process may send."""
        return bool(broker_client().eval(_TAKE_OR_RENEW, 1, self.key, self.token, str(self.lease_ms)))

    def release(self) -> None:
        """Give the lease up (a clean stop), so a standby takes over at its next tick."""
        broker_client().eval(_RELEASE, 1, self.key, self.token)


class LockedDatabaseScheduler(DatabaseScheduler):
    """DatabaseScheduler whose ticks send only under the beat lease."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lease = BeatLease()
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            holding = self.lease.hold()
        except Exception:
            # The lease lives in the broker's Redis: a beat that cannot reach it could not send anyway.
            logger.warning("beat: the broker's Redis unreachable, sending nothing", exc_info=True)
            holding = False
        if not holding:
            return STANDBY_TICK_SECONDS
        return float(super().tick(*args, **kwargs))

    def close(self) -> None:
        super().close()
        try:
            self.lease.release()
        except Exception:
            # The lease runs out by itself within LEASE_SECONDS.
            logger.warning("beat: could not release the lease", exc_info=True)
