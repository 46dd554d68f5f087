"""One dispatch round against the real stores: load the pool and the nearby free drivers, call the
pure policy, persist its assignments as offers.

The whole round is one transaction under a PostgreSQL advisory lock, so two workers never run a round
at once, and a worker killed mid-round leaves nothing behind (its transaction rolls back and the lock
is released with its connection): the next round, on the next event or beat, dispatches the orders.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from drivers import location
from drivers.dispatch.entities import AvailableDriver, DispatchParams, PendingOrder
from drivers.dispatch.geometry import HaversineTravel, Point
from drivers.dispatch.policy import plan_round
from drivers.events import record_no_driver_alert
from drivers.models import DispatchRequest, DispatchStatus, DriverProfile, Offer, OfferStatus
from drivers.selectors import takes_cash_orders
from drivers.services.offers import create_offers, expire_offers
from loship.metrics import DISPATCH_ROUND_SECONDS
from orders.models import PaymentMethod

logger = logging.getLogger(__name__)

#: pg_advisory_xact_lock key of the dispatch round ("DISPATCH" in ASCII, as a bigint).
ROUND_LOCK_KEY = 0x4449535041544348
MAX_POOL = 1000
DRIVERS_PER_MERCHANT = 60
#: Minutes on the round's clock from which shift ends are measured when a driver has none.
OPEN_SHIFT_MINUTES = 24 * 60.0


@dataclass
class RoundResult:
    ran: bool
    pending: int = 0
    drivers: int = 0
    offers: list[int] = field(default_factory=list)
    seconds: float = 0.0


def policy_params() -> DispatchParams:
    """The production policy: the round interval is the beat's, and a match is committed early enough
    to leave time for the driver to answer the offer."""
    return DispatchParams(
        travel=HaversineTravel(),
        round_interval=settings.DISPATCH_ROUND_SECONDS / 60,
        commit_slack=settings.DRIVER_OFFER_SECONDS / 60 + 1.0,
    )


def run_round(*, now: datetime | None = None) -> RoundResult:
    """Run one round if no other is running; returns what it did (ran=False if it was skipped)."""
    started = time.perf_counter()
    now = now or timezone.now()
    expire_offers(now=now)
    location.prune_stale(now=now)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROUND_LOCK_KEY])
            (locked,) = cursor.fetchone()
        if not locked:
            return RoundResult(ran=False)
        result = _round(now)
    result.seconds = time.perf_counter() - started
    DISPATCH_ROUND_SECONDS.observe(result.seconds)
    return result


def _open_offer_for_order() -> Exists:
    return Exists(Offer.objects.filter(status=OfferStatus.OFFERED, order_ids__contains=[OuterRef("pk")]))


def _round(now: datetime) -> RoundResult:
    requests = list(
        DispatchRequest.objects.select_for_update(of=("self",))
        .select_related("order__merchant")
        .filter(status=DispatchStatus.WAITING, dispatchable_at__lte=now)
        .exclude(_open_offer_for_order())
        .order_by("pk")[:MAX_POOL]
    )
    result = RoundResult(ran=True, pending=len(requests))
    if not requests:
        return result
    _widen_and_alert(requests, now)
    drivers = _free_drivers_near(requests, now)
    result.drivers = len(drivers)
    if not drivers:
        return result
    clock = _Clock(now)
    orders = [
        PendingOrder(
            id=str(request.order_id),
            merchant_id=str(request.order.merchant_id),
            pickup=Point(float(request.order.merchant.lng), float(request.order.merchant.lat)),
            dropoff=Point(float(request.order.delivery_lng), float(request.order.delivery_lat)),
            placed_at=clock.minutes(request.order.created_at),
            ready_at=clock.minutes(request.ready_at),
            pays_cash=request.order.payment_method == PaymentMethod.CASH,
        )
        for request in requests
    ]
    assignments = plan_round(orders, drivers, 0.0, policy_params())
    offers = create_offers(
        bundles=[
            (
                int(assignment.driver_id),
                [int(order_id) for order_id in assignment.order_ids],
                clock.at(assignment.pickup_at),
            )
            for assignment in assignments
        ],
        now=now,
    )
    result.offers = [offer.pk for offer in offers]
    return result


class _Clock:
    """The policy's clock: minutes from the round's start."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def minutes(self, moment: datetime) -> float:
        return (moment - self.now).total_seconds() / 60

    def at(self, minutes: float) -> datetime:
        return self.now + timedelta(minutes=minutes)


def _widen_and_alert(requests: list[DispatchRequest], now: datetime) -> None:
    """One radius step wider per DISPATCH_WIDEN_SECONDS of search; ops alerted once after N minutes."""
    steps = settings.DISPATCH_RADIUS_STEPS_M
    for request in requests:
        waited = (now - request.searching_since).total_seconds()
        step = min(len(steps) - 1, int(waited // settings.DISPATCH_WIDEN_SECONDS))
        changed = []
        if steps[step] != request.search_radius_m:
            request.search_radius_m = steps[step]
            changed.append("search_radius_m")
        if request.ops_alerted_at is None and waited >= settings.DISPATCH_OPS_ALERT_MINUTES * 60:
            request.ops_alerted_at = now
            changed.append("ops_alerted_at")
            record_no_driver_alert(request, waited_minutes=waited / 60)
        if changed:
            request.save(update_fields=[*changed, "updated_at"])


def _free_drivers_near(requests: list[DispatchRequest], now: datetime) -> list[AvailableDriver]:
    """Online drivers with a live position within some waiting order's search radius, without a bundle
    or an open offer, not cooling down after a decline, and with shift time left; each says whether it
    may carry cash (owes no more than DRIVER_CASH_LIMIT_VND)."""
    radius_by_merchant: dict[int, tuple[float, float, int]] = {}
    for request in requests:
        merchant = request.order.merchant
        lat, lng = float(merchant.lat), float(merchant.lng)
        previous = radius_by_merchant.get(merchant.pk, (lat, lng, 0))[2]
        radius_by_merchant[merchant.pk] = (lat, lng, max(previous, request.search_radius_m))
    nearby: set[int] = set()
    for lat, lng, radius in radius_by_merchant.values():
        nearby.update(
            location.nearby_driver_ids(lat=lat, lng=lng, radius_m=radius, count=DRIVERS_PER_MERCHANT)
        )
    if not nearby:
        return []
    cooldown_from = now - timedelta(seconds=settings.DISPATCH_DECLINE_COOLDOWN_SECONDS)
    busy = Offer.objects.filter(
        Q(status=OfferStatus.OFFERED)
        | Q(status=OfferStatus.ACCEPTED, completed_at__isnull=True)
        | Q(status=OfferStatus.DECLINED, responded_at__gte=cooldown_from)
        | Q(status=OfferStatus.EXPIRED, expires_at__gte=cooldown_from),
        driver_id=OuterRef("pk"),
    )
    free = list(
        DriverProfile.objects.filter(pk__in=nearby, is_online=True)
        .filter(Q(shift_ends_at__isnull=True) | Q(shift_ends_at__gt=now))
        .exclude(Exists(busy))
        .values_list("pk", "shift_ends_at", "cash_balance_vnd")
    )
    shift_ends = {driver_id: shift_end for driver_id, shift_end, _ in free}
    owed = {driver_id: balance for driver_id, _, balance in free}
    where = location.positions(sorted(shift_ends))
    clock = _Clock(now)
    drivers = []
    for driver_id, (lat, lng) in where.items():
        shift_end = shift_ends[driver_id]
        position = Point(lng, lat)
        drivers.append(
            AvailableDriver(
                id=str(driver_id),
                position=position,
                free_at=0.0,
                free_position=position,
                shift_end=clock.minutes(shift_end) if shift_end else OPEN_SHIFT_MINUTES,
                takes_cash=takes_cash_orders(owed[driver_id]),
            )
        )
    return drivers
