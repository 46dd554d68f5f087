"""The dispatch pool, fed by the orders app's events (idempotent: an event can arrive twice)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from drivers.models import BEFORE_PICKUP_JOB_STATES, DispatchRequest, DispatchStatus, Job
from drivers.services.jobs import cancel_job
from drivers.services.offers import withdraw_offers_for_orders
from drivers.services.requests import close_request, lock_request, return_to_pool
from orders.models import BEFORE_PICKUP_STATUSES, Order
from orders.services.scheduling import food_due_at


def _expected_ready_at(order: Order, now: datetime) -> datetime:
    if order.ready_at is not None:
        return order.ready_at
    accepted_at = order.accepted_at or now
    expected = accepted_at + timedelta(minutes=order.prep_minutes or 0)
    # A scheduled order's driver is sent for the food due at its slot minus the ride, not earlier.
    due = food_due_at(order)
    return max(expected, due) if due is not None else expected


@transaction.atomic
def enter_pool(*, order_id: int, now: datetime | None = None) -> DispatchRequest | None:
    """The merchant accepted: the order waits for a driver, dispatchable so one arrives near ready time.
    None if the order no longer needs a driver."""
    now = now or timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.status not in BEFORE_PICKUP_STATUSES or order.driver_id is not None:
        return None
    ready_at = _expected_ready_at(order, now)
    request, _ = DispatchRequest.objects.get_or_create(
        order=order,
        defaults={
            "ready_at": ready_at,
            "dispatchable_at": max(now, ready_at - timedelta(minutes=settings.DISPATCH_LEAD_MINUTES)),
            "searching_since": now,
            "search_radius_m": settings.DISPATCH_RADIUS_STEPS_M[0],
        },
    )
    return request


@transaction.atomic
def mark_food_ready(*, order_id: int, now: datetime | None = None) -> DispatchRequest | None:
    """The food is ready: dispatch it now if it still waits for a driver."""
    now = now or timezone.now()
    request = lock_request(order_id)
    if request is None:
        request = enter_pool(order_id=order_id, now=now)
        if request is None:
            return None
    if request.status == DispatchStatus.WAITING:
        request.ready_at = min(request.ready_at, now)
        request.dispatchable_at = min(request.dispatchable_at, now)
        request.save(update_fields=["ready_at", "dispatchable_at", "updated_at"])
    return request


@transaction.atomic
def close_dispatch(*, order_id: int, now: datetime | None = None) -> None:
    """The order ended (cancelled, rejected, delivered, failed): leave the pool, withdraw its offers,
    and end a job still heading to the merchant."""
    now = now or timezone.now()
    _cancel_jobs_before_pickup(order_id, reason="order_closed", now=now)
    request = lock_request(order_id)
    if request is not None:
        close_request(request)
    withdraw_offers_for_orders(order_ids=[order_id])


@transaction.atomic
def release_order(*, order_id: int, now: datetime | None = None) -> DispatchRequest | None:
    """The orders app took the order back from its driver (e.g. ops in the order admin): end the job
    and put the order back in the pool. None if there is nothing to release (already done)."""
    now = now or timezone.now()
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.driver_id is not None or order.status not in BEFORE_PICKUP_STATUSES:
        return None
    _cancel_jobs_before_pickup(order_id, reason="driver_unassigned", now=now)
    request = lock_request(order_id)
    if request is None or request.status != DispatchStatus.ASSIGNED:
        return None
    return_to_pool(request=request, now=now)
    return request


def _cancel_jobs_before_pickup(order_id: int, *, reason: str, now: datetime) -> None:
    for job in Job.objects.filter(order_id=order_id, state__in=BEFORE_PICKUP_JOB_STATES):
        cancel_job(job_id=job.pk, reason=reason, now=now)
