"""A driver's job through the industry's states, calling the orders app's driver-side transitions.

    en_route_to_pickup -> arrived_at_pickup -> picked_up -> en_route_to_dropoff -> arrived_at_dropoff
        -> delivered | failed           (cancelled: order cancelled, or unassigned by ops, before pickup)

Each step refreshes the ETAs from the driver's position; delivery books the cash collected on a
cash order against the driver's balance and earns the base plus distance pay. A step asked again once
the job is in that state (a retry whose answer was lost) returns the job and writes nothing. A step
touches Redis only to read that position (a miss without it) and, after commit, to update the set of
orders whose customers see the driver move (rebuilt by `sync_carrying` if that write is lost).
"""

import logging
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from drivers import location
from drivers.dispatch.geometry import Point
from drivers.errors import JobErrors
from drivers.eta import TRAVEL, dropoff_etas, pickup_eta, point
from drivers.events import record_driver_event, record_job_event
from drivers.models import (
    ACTIVE_JOB_STATES,
    BEFORE_PICKUP_JOB_STATES,
    CARRYING_JOB_STATES,
    DriverProfile,
    Job,
    JobState,
    Offer,
)
from drivers.promises import promised_after_pickup
from drivers.selectors import cash_state
from drivers.services.requests import close_request, lock_request, return_to_pool
from orders.models import Order
from orders.services import lifecycle
from users.models import User

logger = logging.getLogger(__name__)

S = JobState

#: Allowed source states of each driver-made step.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    S.ARRIVED_AT_PICKUP: (S.EN_ROUTE_TO_PICKUP,),
    S.PICKED_UP: (S.EN_ROUTE_TO_PICKUP, S.ARRIVED_AT_PICKUP),
    S.EN_ROUTE_TO_DROPOFF: (S.PICKED_UP,),
    S.ARRIVED_AT_DROPOFF: (S.PICKED_UP, S.EN_ROUTE_TO_DROPOFF),
    S.DELIVERED: (S.PICKED_UP, S.EN_ROUTE_TO_DROPOFF, S.ARRIVED_AT_DROPOFF),
    S.FAILED: (S.PICKED_UP, S.EN_ROUTE_TO_DROPOFF, S.ARRIVED_AT_DROPOFF),
}
DRIVER_STEPS = tuple(ALLOWED_FROM)


def _lock_job(job_id: int, *, driver_id: int | None = None) -> tuple[DriverProfile, Offer, Job]:
    """Lock profile, offer and job in the house order; 404 if the job is not the driver's."""
    found = Job.objects.filter(pk=job_id)
    if driver_id is not None:
        found = found.filter(driver_id=driver_id)
    job = found.first()
    if job is None:
        raise JobErrors.NOT_FOUND()
    profile = DriverProfile.objects.select_for_update().get(pk=job.driver_id)
    offer = Offer.objects.select_for_update().get(pk=job.offer_id)
    job = Job.objects.select_for_update().select_related("order__merchant").get(pk=job_id)
    return profile, offer, job


def advance_job(
    *,
    driver: User,
    job_id: int,
    to_state: str,
    reason: str = "",
    delivery_code: str | None = None,
    cash_collected_vnd: int | None = None,
    now: datetime | None = None,
) -> Job:
    """Move the driver's job one step; illegal steps are a 409 `job_transition_not_allowed`. The same
    step again (same reason, same delivery code and cash) answers the job as it is and writes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        profile, offer, job = _lock_job(job_id, driver_id=driver.pk)
        if _reached(job, to_state, reason=reason, code=delivery_code, cash=cash_collected_vnd):
            return job
        if to_state not in ALLOWED_FROM or job.state not in ALLOWED_FROM[to_state]:
            raise JobErrors.TRANSITION_NOT_ALLOWED(
                extra={"state": job.state}, from_state=job.state, to_state=to_state
            )
        order = job.order
        if to_state == S.ARRIVED_AT_PICKUP:
            job.arrived_at_pickup_at = now
        elif to_state == S.PICKED_UP:
            _pick_up(job, offer=offer, driver=driver, now=now)
        elif to_state == S.ARRIVED_AT_DROPOFF:
            job.arrived_at_dropoff_at = now
        elif to_state == S.DELIVERED:
            _deliver(job, profile=profile, driver=driver, code=delivery_code, cash=cash_collected_vnd)
        elif to_state == S.FAILED:
            lifecycle.mark_delivery_failed(
                order_id=order.pk, actor=driver, reason=reason or "delivery_failed"
            )
            job.failure_reason = (reason or "delivery_failed")[:255]
        job.state = to_state
        if to_state in (S.DELIVERED, S.FAILED):
            job.ended_at = now
        else:
            _refresh_etas(job, driver_at=driver_point(profile, now=now), now=now)
        job.save()
        record_job_event(job)
        if to_state in (S.DELIVERED, S.FAILED):
            _close_offer_if_done(offer, now=now)
            request = lock_request(order.pk)
            if request is not None:
                close_request(request)
        _sync_carrying_after_commit(driver.pk)
    return job


def _reached(job: Job, to_state: str, *, reason: str, code: str | None, cash: int | None) -> bool:
    """Whether the locked job already stands at `to_state`, reached by a request like this one."""
    if job.state != to_state or to_state not in ALLOWED_FROM:
        return False
    if to_state == S.FAILED:
        return job.failure_reason == (reason or "delivery_failed")[:255]
    if to_state == S.DELIVERED:
        return _delivery_refusal(job, code=code, cash=cash) is None
    return True


def _delivery_refusal(job: Job, *, code: str | None, cash: int | None) -> Exception | None:
    """Why this delivery code or cash amount is refused for the job (None: both are right)."""
    if (code is not None or settings.DRIVER_DELIVERY_CODE_REQUIRED) and code != job.order.delivery_code:
        return JobErrors.DELIVERY_CODE_WRONG(fields={"delivery_code": ["wrong"]})
    expected = job.cash_to_collect_vnd
    if cash is not None and cash != expected:
        return JobErrors.CASH_MISMATCH(fields={"cash_collected_vnd": [str(expected)]}, expected=expected)
    return None


def _pick_up(job: Job, *, offer: Offer, driver: User, now: datetime) -> None:
    merchant = job.order.merchant
    merchant_at = point(merchant.lat, merchant.lng)
    dropoff = point(job.order.delivery_lat, job.order.delivery_lng)
    [eta] = dropoff_etas(start=now, origin=merchant_at, dropoffs=[dropoff])
    promised_at = promised_after_pickup(now=now, ride_minutes=TRAVEL.minutes(merchant_at, dropoff))
    lifecycle.mark_picked_up(order_id=job.order_id, driver=driver, eta=eta, promised_at=promised_at)
    job.picked_up_at = now


def _deliver(job: Job, *, profile: DriverProfile, driver: User, code: str | None, cash: int | None) -> None:
    order: Order = job.order
    refusal = _delivery_refusal(job, code=code, cash=cash)
    if refusal is not None:
        raise refusal
    expected = job.cash_to_collect_vnd
    lifecycle.mark_delivered(order_id=order.pk, driver=driver)
    if expected:
        job.cash_collected_vnd = expected
        profile.cash_balance_vnd += expected
        profile.save(update_fields=["cash_balance_vnd", "updated_at"])
        record_driver_event(
            profile.pk,
            "cash_collected",
            order_id=order.pk,
            amount_vnd=expected,
            **cash_state(profile.cash_balance_vnd),
        )


def driver_point(profile: DriverProfile, *, now: datetime) -> Point | None:
    """Where the driver is, to plan ETAs with: the live position, else (none in Redis, or Redis
    unreachable) the one last saved to PostgreSQL if it is fresh; None without either."""
    live = location.live_position(profile.pk)
    if live is not None:
        return point(*live)
    fresh_from = now - timedelta(seconds=settings.DRIVER_POSITION_STALE_SECONDS)
    if profile.last_fix_at is not None and profile.last_fix_at >= fresh_from:
        return point(profile.last_lat, profile.last_lng)
    return None


def _refresh_etas(job: Job, *, driver_at: Point | None, now: datetime) -> None:
    """Fresh pickup and drop-off ETAs from the driver's position (kept as they were without one)."""
    if driver_at is None:
        return
    order = job.order
    merchant_at = point(order.merchant.lat, order.merchant.lng)
    dropoff_at = point(order.delivery_lat, order.delivery_lng)
    if job.state in (S.EN_ROUTE_TO_PICKUP, S.ARRIVED_AT_PICKUP):
        job.pickup_eta = pickup_eta(
            now=now, driver_at=driver_at, merchant=merchant_at, ready_at=order.ready_at
        )
        [job.dropoff_eta] = dropoff_etas(start=job.pickup_eta, origin=merchant_at, dropoffs=[dropoff_at])
    else:
        [job.dropoff_eta] = dropoff_etas(start=now, origin=driver_at, dropoffs=[dropoff_at])


def _close_offer_if_done(offer: Offer, *, now: datetime) -> None:
    if not Job.objects.filter(offer=offer, state__in=ACTIVE_JOB_STATES).exists():
        offer.completed_at = now
        offer.save(update_fields=["completed_at"])


def _sync_carrying_after_commit(driver_id: int) -> None:
    def sync() -> None:
        try:
            location.set_carrying(driver_id, carrying_order_ids(driver_ids=[driver_id])[driver_id])
        except redis.RedisError:
            logger.warning("drivers: carrying set of %s not written (Redis); the sync will", driver_id)

    transaction.on_commit(sync, robust=True)


def carrying_order_ids(*, driver_ids: list[int]) -> dict[int, list[int]]:
    """The orders in each driver's box (an empty list for a driver carrying none)."""
    carrying: dict[int, list[int]] = {driver_id: [] for driver_id in driver_ids}
    rows = Job.objects.filter(driver_id__in=driver_ids, state__in=CARRYING_JOB_STATES).order_by("order_id")
    for driver_id, order_id in rows.values_list("driver_id", "order_id"):
        carrying[driver_id].append(order_id)
    return carrying


def sync_carrying(*, now: datetime | None = None, ended_within: float = 600.0) -> int:
    """Rewrite in Redis the carrying sets of every driver carrying food and of every driver whose job
    ended in the last `ended_within` seconds, from PostgreSQL: what a step could not write (Redis down)
    or a restart lost comes back. Returns how many drivers were written."""
    now = now or timezone.now()
    recent = Job.objects.filter(ended_at__gte=now - timedelta(seconds=ended_within))
    driver_ids = set(
        Job.objects.filter(state__in=CARRYING_JOB_STATES).values_list("driver_id", flat=True)
    ) | set(recent.values_list("driver_id", flat=True))
    if driver_ids:
        location.replace_carrying(carrying_order_ids(driver_ids=sorted(driver_ids)))
    return len(driver_ids)


def cancel_job(
    *, job_id: int, reason: str, now: datetime, actor: User | None = None, unassign: bool = False
) -> Job:
    """End a job before pickup. With `unassign`, the order is also taken back from the driver in the
    orders app and returns to the pool; otherwise (the order ended) only the job closes."""
    with transaction.atomic():
        _, offer, job = _lock_job(job_id)
        if job.state not in BEFORE_PICKUP_JOB_STATES:
            if job.state == S.CANCELLED:
                return job
            raise JobErrors.TRANSITION_NOT_ALLOWED(
                extra={"state": job.state}, from_state=job.state, to_state=S.CANCELLED
            )
        job.state = S.CANCELLED
        job.failure_reason = reason[:255]
        job.ended_at = now
        job.save()
        record_job_event(job)
        _close_offer_if_done(offer, now=now)
        request = lock_request(job.order_id)
        if unassign:
            order = lifecycle.unassign_driver(
                order_id=job.order_id, driver=job.driver, actor=actor, reason=reason
            )
            if request is not None and not order.is_terminal:
                return_to_pool(request=request, now=now)
        _sync_carrying_after_commit(job.driver_id)
    return job
