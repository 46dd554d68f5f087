"""Driver profile, availability and live location."""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from drivers import location
from drivers.errors import DriverErrors, LocationErrors
from drivers.events import record_driver_event
from drivers.models import DriverProfile, Offer, OfferStatus
from drivers.services.offers import withdraw_offer
from loship.metrics import LOCATION_FIXES
from loship.push import order_group, push
from loship.timefmt import iso, iso_or_none
from users.errors import UserErrors
from users.models import Role, User

logger = logging.getLogger(__name__)

MAX_SHIFT_HOURS = 16
MAX_FIXES_PER_BATCH = 100


def ensure_profile(*, user: User) -> DriverProfile:
    """The driver's profile, created empty on first use; a user without the driver role is refused."""
    if not user.has_role(Role.DRIVER):
        raise UserErrors.NOT_A_DRIVER()
    profile, _ = DriverProfile.objects.get_or_create(user=user, defaults={"phone": user.phone})
    return profile


@transaction.atomic
def update_profile(*, user: User, **fields: Any) -> DriverProfile:
    """Change vehicle, plate or work phone."""
    ensure_profile(user=user)
    profile = DriverProfile.objects.select_for_update().get(pk=user.pk)
    allowed = {"vehicle", "plate", "phone"}
    changed = [name for name in fields if name in allowed]
    for name in changed:
        setattr(profile, name, fields[name])
    if changed:
        profile.save(update_fields=[*changed, "updated_at"])
    return profile


def _check_shift_end(shift_ends_at: datetime | None, now: datetime) -> None:
    if shift_ends_at is not None and not now < shift_ends_at <= now + timedelta(hours=MAX_SHIFT_HOURS):
        raise DriverErrors.SHIFT_END_INVALID(fields={"shift_ends_at": ["now .. now + 16 h"]})


@transaction.atomic
def go_online(
    *, user: User, shift_ends_at: datetime | None = None, now: datetime | None = None
) -> DriverProfile:
    """The driver takes offers from now on (until `shift_ends_at`, if given)."""
    now = now or timezone.now()
    _check_shift_end(shift_ends_at, now)
    ensure_profile(user=user)
    profile = DriverProfile.objects.select_for_update().get(pk=user.pk)
    was_online = profile.is_online
    profile.is_online = True
    profile.shift_ends_at = shift_ends_at
    profile.save(update_fields=["is_online", "shift_ends_at", "updated_at"])
    if not was_online:
        record_driver_event(user.pk, "online", shift_ends_at=iso_or_none(shift_ends_at))
    return profile


@transaction.atomic
def go_offline(*, user: User) -> DriverProfile:
    """No new offers; open offers are withdrawn. Jobs in progress continue until delivered."""
    ensure_profile(user=user)
    profile = DriverProfile.objects.select_for_update().get(pk=user.pk)
    if not profile.is_online:
        return profile
    profile.is_online = False
    profile.save(update_fields=["is_online", "updated_at"])
    for offer in (
        Offer.objects.select_for_update().filter(driver=user, status=OfferStatus.OFFERED).order_by("pk")
    ):
        withdraw_offer(offer=offer)
    record_driver_event(user.pk, "offline")
    transaction.on_commit(lambda: location.forget(user.pk), robust=True)
    return profile


@transaction.atomic
def set_shift_end(
    *, user: User, shift_ends_at: datetime | None, now: datetime | None = None
) -> DriverProfile:
    """When the driver stops today: dispatch plans no pickup after it."""
    _check_shift_end(shift_ends_at, now or timezone.now())
    ensure_profile(user=user)
    profile = DriverProfile.objects.select_for_update().get(pk=user.pk)
    profile.shift_ends_at = shift_ends_at
    profile.save(update_fields=["shift_ends_at", "updated_at"])
    return profile


# --- Location ------------------------------------------------------------------------------------


@dataclass
class LocationReport:
    """What became of a batch: applied, ignored (too old or not newer than the last one), rejected."""

    accepted: int = 0
    ignored: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "ignored": self.ignored, "rejected": self.rejected}


#: The device times a fix may carry (ms since the epoch): the years a datetime can hold.
_TIMESTAMP_MS_RANGE = (-62_135_596_800_000, 253_402_300_799_999)


def parse_fix(raw: Mapping[str, Any], *, latest_ms: int) -> location.Fix | str:
    """A fix from the app's JSON, or the error code that rejects it (`latest_ms`: the newest device
    time accepted, now plus DRIVER_FIX_MAX_FUTURE_SECONDS of clock skew)."""
    try:
        lat, lng = float(raw["lat"]), float(raw["lng"])
        timestamp_ms = float(raw["timestamp"])
        heading = _optional_float(raw.get("heading"))
        speed = _optional_float(raw.get("speed"))
        accuracy = _optional_float(raw.get("accuracy"))
    except (KeyError, TypeError, ValueError):
        return "location_fix_malformed"
    if not location.coordinates_valid(lat, lng):
        return LocationErrors.COORDINATES_INVALID.code
    if not _TIMESTAMP_MS_RANGE[0] <= timestamp_ms <= min(latest_ms, _TIMESTAMP_MS_RANGE[1]):
        return "location_timestamp_invalid"  # also NaN, which compares false
    if heading is not None and not 0 <= heading <= 360:
        return "location_heading_invalid"
    if (speed is not None and speed < 0) or (accuracy is not None and accuracy < 0):
        return "location_fix_malformed"
    return location.Fix(
        lat=lat, lng=lng, at_ms=int(timestamp_ms), heading=heading, speed=speed, accuracy=accuracy
    )


def _optional_float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def record_location_fixes(
    *, driver_id: int, fixes: Sequence[Mapping[str, Any]], now: datetime | None = None
) -> LocationReport:
    """Validate and store a batch of one driver's fixes: invalid ones are rejected with a code, too old
    or out-of-order ones ignored; the newest goes to Redis GEO, is marked for the throttled PostgreSQL
    save (`save_due_positions`, run by beat), and (every 3 s at most) goes to the customers of the
    orders the driver carries. While Redis is unreachable the newest is saved to PostgreSQL instead
    (at the same throttled rate), so the batch still succeeds."""
    [report] = record_location_batches(batches=[(driver_id, fixes)], now=now)
    return report


def record_location_batches(
    *, batches: Sequence[tuple[int, Sequence[Mapping[str, Any]]]], now: datetime | None = None
) -> list[LocationReport]:
    """`record_location_fixes` for the messages of many drivers at once, in one Redis round trip
    (the WebSocket process does the same from its event loop: `drivers.ingest`)."""
    now = now or timezone.now()
    checked = check_location_batches(batches, now=now)
    try:
        applied = location.apply_fixes(checked.entries, now=now)
    except redis.RedisError:
        applied = save_newest_fixes(checked.entries)
    push_positions(settle_location_batches(checked, applied))
    return checked.reports


@dataclass
class CheckedFixes:
    """Messages validated: a report per message, and the valid fixes (oldest first per driver), each
    with the position of the message it came in (`owners`)."""

    reports: list[LocationReport]
    entries: list[tuple[int, location.Fix]]
    owners: list[int]


#: Fixes due to be pushed: (the orders whose customers see the driver, the driver's newest fix).
DuePushes = list[tuple[tuple[int, ...], location.Fix]]


def check_location_batches(
    batches: Sequence[tuple[int, Sequence[Mapping[str, Any]]]], *, now: datetime
) -> CheckedFixes:
    """Validate each message's fixes: invalid ones rejected with a code, too old ones ignored."""
    now_ms = int(now.timestamp() * 1000)
    too_old_ms = now_ms - int(settings.DRIVER_FIX_MAX_AGE_SECONDS * 1000)
    latest_ms = now_ms + int(settings.DRIVER_FIX_MAX_FUTURE_SECONDS * 1000)
    checked = CheckedFixes(reports=[], entries=[], owners=[])
    for position, (driver_id, fixes) in enumerate(batches):
        if len(fixes) > MAX_FIXES_PER_BATCH:
            raise LocationErrors.TOO_MANY_FIXES(max=MAX_FIXES_PER_BATCH)
        report = LocationReport()
        checked.reports.append(report)
        valid: list[location.Fix] = []
        for index, raw in enumerate(fixes):
            parsed = (
                parse_fix(raw, latest_ms=latest_ms) if isinstance(raw, Mapping) else "location_fix_malformed"
            )
            if isinstance(parsed, str):
                report.rejected.append({"index": index, "code": parsed})
            elif parsed.at_ms < too_old_ms:
                report.ignored += 1
            else:
                valid.append(parsed)
        valid.sort(key=lambda fix: fix.at_ms)
        checked.entries += [(driver_id, fix) for fix in valid]
        checked.owners += [position] * len(valid)
    return checked


def settle_location_batches(checked: CheckedFixes, applied: list[location.AppliedFix]) -> DuePushes:
    """Count what the store applied into each message's report (a fix it did not apply was not newer
    than the stored one: ignored); the pushes now due, one per driver, its newest fix."""
    due: dict[int, tuple[tuple[int, ...], location.Fix]] = {}
    for owner, result in zip(checked.owners, applied, strict=True):
        if not result.applied:
            checked.reports[owner].ignored += 1
            continue
        checked.reports[owner].accepted += 1
        if result.carrying_order_ids:
            due[result.driver_id] = (result.carrying_order_ids, result.fix)
    _count(checked.reports)
    return list(due.values())


def save_due_positions(*, limit: int = 2000) -> int:
    """Copy the live positions due for a save (at most one per driver per DRIVER_POSITION_SAVE_SECONDS)
    from Redis to PostgreSQL in one bulk update; returns how many profiles were updated."""
    rows = location.take_due_positions(limit=limit)
    profiles = [
        DriverProfile(user_id=driver_id, **_saved_position(lat, lng, heading, at))
        for driver_id, lat, lng, heading, at in rows
    ]
    if profiles:
        DriverProfile.objects.bulk_update(profiles, ["last_lat", "last_lng", "last_heading", "last_fix_at"])
    return len(profiles)


def _saved_position(lat: float, lng: float, heading: float, at: datetime) -> dict[str, Any]:
    """The profile fields of a position saved to PostgreSQL."""
    return {
        "last_lat": Decimal(f"{lat:.6f}"),
        "last_lng": Decimal(f"{lng:.6f}"),
        "last_heading": heading,
        "last_fix_at": at,
    }


def save_newest_fixes(entries: list[tuple[int, location.Fix]]) -> list[location.AppliedFix]:
    """Without Redis (logged): each driver's newest fix goes straight to the PostgreSQL copy, no more
    often than the flush would write it (DRIVER_POSITION_SAVE_SECONDS); older fixes of the batch are
    superseded."""
    newest: dict[int, location.Fix] = {}
    for driver_id, fix in entries:
        newest[driver_id] = fix  # entries are oldest first per driver
    logger.warning("drivers: live positions unavailable (Redis); saving fixes to PostgreSQL")
    every = timedelta(seconds=settings.DRIVER_POSITION_SAVE_SECONDS)
    for driver_id, fix in newest.items():
        DriverProfile.objects.filter(
            Q(last_fix_at__isnull=True) | Q(last_fix_at__lte=fix.at - every), pk=driver_id
        ).update(**_saved_position(fix.lat, fix.lng, fix.heading or 0, fix.at))
    return [
        location.AppliedFix(driver_id, fix, newest[driver_id] is fix, save_to_db=False, carrying_order_ids=())
        for driver_id, fix in entries
    ]


def push_positions(due: DuePushes) -> None:
    """Send each driver's newest position to the customers of the orders they carry."""
    for order_ids, fix in due:
        for order_id in order_ids:
            _push_position(order_id, fix)


def _push_position(order_id: int, fix: location.Fix) -> None:
    push(
        order_group(order_id),
        {
            "type": "driver.position",
            "order_id": order_id,
            "lat": fix.lat,
            "lng": fix.lng,
            "heading": fix.heading,
            "at": iso(fix.at),
        },
    )


_ACCEPTED, _IGNORED, _REJECTED = (
    LOCATION_FIXES.labels(outcome=name) for name in ("accepted", "ignored", "rejected")
)


def _count(reports: list[LocationReport]) -> None:
    """The batch's outcomes, counted once per batch (not per message)."""
    accepted = ignored = rejected = 0
    for report in reports:
        accepted += report.accepted
        ignored += report.ignored
        rejected += len(report.rejected)
    for counter, value in ((_ACCEPTED, accepted), (_IGNORED, ignored), (_REJECTED, rejected)):
        if value:
            counter.inc(value)
