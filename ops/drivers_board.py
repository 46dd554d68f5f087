"""Drivers on the ops dashboard: online, busy (carrying an active order), last seen."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

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


def driver_counts() -> DriverCounts:
    online = DriverProfile.objects.filter(is_online=True).count()
    return DriverCounts(online=online, busy=len(busy_driver_ids()))


def driver_rows(limit: int = 100) -> list[DriverRow]:
    """Online drivers first, then the most recently seen; busy ones marked."""
    busy = busy_driver_ids()
    stale_before = timezone.now() - timedelta(seconds=settings.DRIVER_POSITION_STALE_SECONDS)
    profiles = DriverProfile.objects.select_related("user").order_by("-is_online", "-last_fix_at")[:limit]
    return [
        DriverRow(
            user_id=profile.user_id,
            name=profile.user.full_name,
            phone=profile.user.phone,
            online=profile.is_online,
            busy=profile.user_id in busy,
            last_seen=profile.last_fix_at,
            stale=profile.is_online and (profile.last_fix_at is None or profile.last_fix_at < stale_before),
        )
        for profile in profiles
    ]
