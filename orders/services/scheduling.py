"""Scheduled orders: a delivery slot chosen at placement, and the order's release to the merchant.

A scheduled order is priced and checked like any other when it is placed, then waits in `scheduled`
(the customer may cancel it for free; the merchant sees it among its upcoming orders). At `release_at`
it becomes `placed`: the merchant gets it as a new order and its answer deadline starts. `release_at`
is the slot minus the ride (travel and handover), the merchant's preparation time and the time it is
given to answer, so food accepted even at the last moment is ready when the driver must leave.

The release is a state transition made by one beat sweep (`release_due_orders`), never a task per
order: the sweep claims the due rows with `FOR UPDATE SKIP LOCKED`, so sweeps running at once never
take the same order, and the row's state makes a release happen at most once. A sweep killed mid-way
commits nothing; its orders are still `scheduled` and due, and the next sweep releases them.
"""

import logging
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from loship.timefmt import iso
from merchants.models import OpeningHours
from merchants.selectors import LOCAL_TZ, open_at
from orders.errors import ScheduleErrors
from orders.models import HIDDEN_FROM_MERCHANT, ActorRole, Order, OrderEventKind, OrderStatus
from orders.pricing import PricingConfig, ride_minutes
from orders.services.transitions import merchant_accept_deadline, record_change

logger = logging.getLogger(__name__)

SLOT_MINUTES = 15
#: Orders released per transaction; the sweep goes on while batches come back full.
RELEASE_BATCH = 100
RELEASE_REASON = "scheduled_release"


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """When a slot's order must be in the kitchen and when it goes to the merchant."""

    slot: datetime
    #: The food must be ready then for the ride to reach the customer at the slot.
    food_due_at: datetime
    #: The order goes to the merchant then: its answer time and its preparation before `food_due_at`.
    release_at: datetime


def plan_slot(*, slot: datetime, prep_minutes: int, distance_m: int, config: PricingConfig) -> SlotPlan:
    food_due_at = slot - timedelta(minutes=ride_minutes(distance_m, config))
    release_at = food_due_at - timedelta(minutes=prep_minutes + settings.MERCHANT_ACCEPT_MINUTES)
    return SlotPlan(slot=slot, food_due_at=food_due_at, release_at=release_at)


def food_due_at(order: Order) -> datetime | None:
    """When a scheduled order's food must be ready (None for an order placed for now)."""
    if order.scheduled_for is None:
        return None
    ride = ride_minutes(order.distance_m, PricingConfig.from_settings())
    return order.scheduled_for - timedelta(minutes=ride)


def slot_days(slot: datetime) -> list[date]:
    """The local dates whose hours and closures can decide a slot: its day and the two before (the
    kitchen may start hours earlier, in an interval that began the day before)."""
    day = slot.astimezone(LOCAL_TZ).date()
    return [day - timedelta(days=back) for back in range(3)]


def _kitchen_moments(plan: SlotPlan) -> Iterator[datetime]:
    """The release, every slot step after it, and the last minute before the food is due."""
    moment = plan.release_at
    while moment < plan.food_due_at:
        yield moment
        moment += timedelta(minutes=SLOT_MINUTES)
    yield plan.food_due_at - timedelta(minutes=1)


def check_slot(
    plan: SlotPlan, *, now: datetime, hours: Collection[OpeningHours], closed_dates: Collection[date]
) -> None:
    """Refuse a slot that is off the quarter-hour steps, too soon to prepare, too far ahead, or for
    which the merchant is not open from the release until the food is due (its weekly hours, past
    midnight included, and its closed dates, by `merchants.selectors.open_at`)."""
    local = plan.slot.astimezone(LOCAL_TZ)
    if local.minute % SLOT_MINUTES or local.second or local.microsecond:
        raise ScheduleErrors.SLOT_NOT_ON_STEP(
            fields={"scheduled_for": [ScheduleErrors.SLOT_NOT_ON_STEP.text.render()]}
        )
    days = settings.SCHEDULED_MAX_DAYS_AHEAD
    if plan.slot > now + timedelta(days=days):
        raise ScheduleErrors.SLOT_TOO_FAR(extra={"max_days": days}, days=days)
    if plan.release_at <= now:
        raise ScheduleErrors.SLOT_TOO_SOON(extra={"earliest_slot": iso(_earliest_slot(plan, now=now))})
    for moment in _kitchen_moments(plan):
        if not open_at(hours, closed_dates, local=moment.astimezone(LOCAL_TZ)):
            raise ScheduleErrors.SLOT_OUTSIDE_HOURS()


def _earliest_slot(plan: SlotPlan, *, now: datetime) -> datetime:
    """The first quarter hour whose release is still ahead of `now` (opening hours aside)."""
    step = timedelta(minutes=SLOT_MINUTES)
    slot = plan.slot + (now - plan.release_at)
    local = slot.astimezone(LOCAL_TZ)
    floor = local.replace(minute=local.minute - local.minute % SLOT_MINUTES, second=0, microsecond=0)
    return floor + step


def _release(order: Order, *, now: datetime) -> None:
    """scheduled -> placed, by the system; the merchant's answer clock starts if it may see the order
    (an e-wallet order still unpaid starts it when its payment is confirmed)."""
    order.status = OrderStatus.PLACED
    if order.payment_status not in HIDDEN_FROM_MERCHANT:
        order.merchant_accept_deadline = merchant_accept_deadline(now)
    record_change(
        order,
        kind=OrderEventKind.PLACED,
        from_status=OrderStatus.SCHEDULED,
        actor=None,
        actor_role=ActorRole.SYSTEM,
        reason=RELEASE_REASON,
        update_fields=["status", "merchant_accept_deadline"],
    )


def release_due_orders(*, now: datetime | None = None, batch: int = RELEASE_BATCH) -> list[int]:
    """Release one batch of scheduled orders whose `release_at` has come, oldest first, in one
    transaction; returns their ids. Rows another sweep (or a cancel) holds are skipped, not waited for."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Order.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=OrderStatus.SCHEDULED, release_at__lte=now)
            .order_by("release_at", "id")[:batch]
        )
        for order in due:
            _release(order, now=now)
    if due:
        logger.info("scheduling: released %d order(s)", len(due))
    return [order.pk for order in due]
