"""Drivers on the ops dashboard: online, busy (carrying an active order), last seen (the newest fix in
Redis, where the drivers app keeps live positions; the throttled copy in PostgreSQL otherwise)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from django.conf import settings
from django.utils import timezone

from drivers.location import SEEN_KEY
from drivers.location import client as positions_client
from drivers.models import DriverProfile
from ops.selectors import busy_driver_ids


@dataclass(frozen=True)
class DriverCounts:
    online: int
    busy: int


@dataclass(frozen=True)
class DriverRow:
    user_id: int
    name: str
    phone: str
    online: bool
    busy: bool
    last_seen: datetime | None
    stale: bool


def driver_counts(busy: set[int] | None = None) -> DriverCounts:
    """Online and busy drivers (`busy`: `busy_driver_ids()` when the caller has read it already)."""
    online = DriverProfile.objects.filter(is_online=True).count()
    return DriverCounts(online=online, busy=len(busy_driver_ids() if busy is None else busy))


def driver_rows(limit: int = 100, busy: set[int] | None = None) -> list[DriverRow]:
    """Online drivers first, then the most recently seen; busy ones marked."""
    busy = busy_driver_ids() if busy is None else busy
    stale_before = timezone.now() - timedelta(seconds=settings.DRIVER_POSITION_STALE_SECONDS)
    profiles = list(
        DriverProfile.objects.select_related("user").order_by("-is_online", "-last_fix_at")[:limit]
    )
    seen = _seen_in_redis([profile.user_id for profile in profiles])
    return [
        DriverRow(
            user_id=profile.user_id,
            name=profile.user.full_name,
            phone=profile.user.phone,
            online=profile.is_online,
            busy=profile.user_id in busy,
            last_seen=seen.get(profile.user_id, profile.last_fix_at),
            stale=profile.is_online
            and (seen.get(profile.user_id, profile.last_fix_at) or stale_before) <= stale_before,
        )
        for profile in profiles
    ]


def _seen_in_redis(driver_ids: list[int]) -> dict[int, datetime]:
    """Time of each driver's newest fix (ms scores of the drivers app's `seen` set)."""
    if not driver_ids:
        return {}
    scores = cast(list[float | None], positions_client().zmscore(SEEN_KEY, [str(i) for i in driver_ids]))
    return {
        driver_id: datetime.fromtimestamp(score / 1000, tz=UTC)
        for driver_id, score in zip(driver_ids, scores, strict=True)
        if score is not None
    }
