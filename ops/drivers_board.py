"""Drivers on the ops dashboard: online, busy (carrying an active order), last seen."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from drivers.models import DriverProfile
from ops.selectors import busy_driver_ids
from users.models import User


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
    rows: list[dict[str, Any]] = list(
        DriverProfile.objects.order_by("-is_online", "-last_fix_at").values(
            "user_id", "is_online", "last_fix_at"
        )[:limit]
    )
    users = User.objects.in_bulk([row["user_id"] for row in rows])
    return [
        DriverRow(
            user_id=row["user_id"],
            name=users[row["user_id"]].full_name,
            phone=users[row["user_id"]].phone,
            online=row["is_online"],
            busy=row["user_id"] in busy,
            last_seen=row["last_fix_at"],
            stale=row["is_online"] and (row["last_fix_at"] is None or row["last_fix_at"] < stale_before),
        )
        for row in rows
    ]
