"""Drivers on the ops dashboard: online, busy (carrying an active order), last seen.

The drivers app's profile model is looked up by name, so this page works (without online figures)
on a tree where that app has no profiles.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from ops.selectors import busy_driver_ids
from users.models import User


def _profile_model() -> type[Model] | None:
    try:
        return apps.get_model("drivers", "DriverProfile")
    except LookupError:
        return None


@dataclass(frozen=True)
class DriverCounts:
    online: int | None
    busy: int

    @property
    def idle(self) -> int | None:
        return None if self.online is None else max(self.online - self.busy, 0)


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
    profile = _profile_model()
    online = profile._default_manager.filter(is_online=True).count() if profile else None
    return DriverCounts(online=online, busy=len(busy_driver_ids()))


def driver_rows(limit: int = 100) -> list[DriverRow]:
    """Online drivers first, then the most recently seen; busy ones marked."""
    profile = _profile_model()
    if profile is None:
        return []
    busy = busy_driver_ids()
    stale_before = timezone.now() - timedelta(
        seconds=getattr(settings, "DRIVER_POSITION_STALE_SECONDS", 120.0)
    )
    rows: list[dict[str, Any]] = list(
        profile._default_manager.order_by("-is_online", "-last_fix_at").values(
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
