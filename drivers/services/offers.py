"""Offers: created by dispatch rounds (or by ops), accepted atomically, declined, expired, withdrawn.

Accepting locks, in this fixed order, the driver's profile, the offer, the dispatch requests of its
orders (by order id) and the orders (by id, inside the orders app's `assign_driver`). Two drivers
racing for one order serialise on its dispatch request; one driver racing with two offers serialises
on the profile; the partial unique indexes (`job_one_active_per_order`, `offer_one_active_per_driver`)
back both up.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from drivers.errors import CashErrors, DriverErrors, JobErrors, OfferErrors
from drivers.eta import dropoff_etas, pickup_eta, point
from drivers.events import record_job_event, record_offer_event
from drivers.models import (
    ACTIVE_JOB_STATES,
    DispatchRequest,
    DispatchStatus,
    DriverProfile,
    Job,
    JobState,
    Offer,
    OfferStatus,
)
from drivers.promises import promised_after_assignment
from drivers.selectors import takes_cash_orders
from drivers.services.jobs import cancel_job, driver_point
from drivers.tasks import request_round
from loship.metrics import DISPATCH_LATENCY_SECONDS, OFFERS
from orders.models import Order, OrderEvent, OrderEventKind, PaymentMethod
from orders.services import lifecycle
from users.errors import UserErrors
from users.models import User


def _lock_profile(driver_id: int) -> DriverProfile:
    profile = DriverProfile.objects.select_for_update().filter(pk=driver_id).first()
    if profile is None:
        raise UserErrors.NOT_A_DRIVER()
    return profile


def _has_other_active_bundle(driver_id: int, offer: Offer) -> bool:
    return (
        Offer.objects.filter(driver_id=driver_id, status=OfferStatus.ACCEPTED, completed_at__isnull=True)
        .exclude(pk=offer.pk)
        .exists()
    )


def create_offer(
    *,
    driver_id: int,
    order_ids: Sequence[int],
    pickup_at: datetime | None,
    now: datetime,
    created_by: User | None = None,
) -> Offer:
    """Offer a bundle (in drop-off sequence) to a driver until now + DRIVER_OFFER_SECONDS."""
    [offer] = create_offers(bundles=[(driver_id, order_ids, pickup_at)], now=now, created_by=created_by)
    return offer


def create_offers(
    *,
    bundles: Sequence[tuple[int, Sequence[int], datetime | None]],
    now: datetime,
    created_by: User | None = None,
) -> list[Offer]:
    """Offer each (driver, orders in drop-off sequence, planned pickup) until now + DRIVER_OFFER_SECONDS,
    in one insert. The caller (a dispatch round) holds the dispatch requests' locks in its transaction."""
    offers = Offer.objects.bulk_create(
        Offer(
            driver_id=driver_id,
            order_ids=list(order_ids),
            expires_at=now + timedelta(seconds=settings.DRIVER_OFFER_SECONDS),
            pickup_eta=pickup_at,
            created_by=created_by,
        )
        for driver_id, order_ids, pickup_at in bundles
    )
    offered = [order_id for _, order_ids, _ in bundles for order_id in order_ids]
    DispatchRequest.objects.filter(pk__in=offered).update(offers_made=F("offers_made") + 1)
    for offer in offers:
        record_offer_event(offer, "created")
    OFFERS.labels(outcome="created").inc(len(offers))
    return offers


def _take_orders(
    offer: Offer, *, profile: DriverProfile, driver: User, actor: User | None, now: datetime
) -> list[Job]:
    """Assign the offer's orders to its driver and open one job per order. The caller holds the
    profile and offer locks; this locks the dispatch requests and the orders, in id order."""
    requests = list(DispatchRequest.objects.select_for_update().filter(pk__in=offer.order_ids).order_by("pk"))
    if len(requests) != len(offer.order_ids) or any(r.status != DispatchStatus.WAITING for r in requests):
        raise OfferErrors.TAKEN()
    if _has_other_active_bundle(driver.pk, offer):
        raise DriverErrors.HAS_ACTIVE_JOB()
    orders = Order.objects.select_related("merchant").in_bulk(offer.order_ids)
    first = orders[offer.order_ids[0]]
    merchant_at = point(first.merchant.lat, first.merchant.lng)
    ready_at = max(r.ready_at for r in requests)
    pickup = pickup_eta(
        now=now, driver_at=driver_point(profile, now=now), merchant=merchant_at, ready_at=ready_at
    )
    drops = dropoff_etas(
        start=pickup,
        origin=merchant_at,
        dropoffs=[point(orders[i].delivery_lat, orders[i].delivery_lng) for i in offer.order_ids],
    )
    dropoff_by_order = dict(zip(offer.order_ids, drops, strict=True))
    for order_id in sorted(offer.order_ids):
        dropoff_eta = dropoff_by_order[order_id]
        lifecycle.assign_driver(
            order_id=order_id,
            driver=driver,
            actor=actor,
            eta=dropoff_eta,
            promised_at=promised_after_assignment(now=now, dropoff_eta=dropoff_eta),
        )
    waited = (now - min(request.dispatchable_at for request in requests)).total_seconds()
    DISPATCH_LATENCY_SECONDS.observe(max(0.0, waited))
    DispatchRequest.objects.filter(pk__in=offer.order_ids).update(
        status=DispatchStatus.ASSIGNED, updated_at=now
    )
    jobs = []
    for sequence, (order_id, dropoff_eta) in enumerate(zip(offer.order_ids, drops, strict=True)):
        order = orders[order_id]
        job = Job.objects.create(
            offer=offer,
            driver=driver,
            order=order,
            sequence=sequence,
            pickup_eta=pickup,
            dropoff_eta=dropoff_eta,
            distance_m=order.distance_m,
            base_pay_vnd=settings.DRIVER_BASE_PAY_VND,
            distance_pay_vnd=settings.DRIVER_PAY_PER_KM_VND * -(-order.distance_m // 1000),
            cash_to_collect_vnd=order.total_vnd if order.payment_method == PaymentMethod.CASH else 0,
        )
        record_job_event(job)
        jobs.append(job)
    return jobs


def accept_offer(*, driver: User, offer_id: int, now: datetime | None = None) -> Offer:
    """The driver takes the bundle: exactly one driver ever gets an order, and a driver holds one
    bundle at a time. An expired offer is a 409 `offer_expired`; a taken order `offer_order_taken`."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            profile = _lock_profile(driver.pk)
            offer = Offer.objects.select_for_update().filter(pk=offer_id, driver=driver).first()
            if offer is None:
                raise OfferErrors.NOT_FOUND()
            if offer.status == OfferStatus.ACCEPTED:
                return offer
            if offer.status == OfferStatus.EXPIRED or (
                offer.status == OfferStatus.OFFERED and offer.expires_at <= now
            ):
                raise OfferErrors.EXPIRED()
            if offer.status != OfferStatus.OFFERED:
                raise OfferErrors.NOT_OPEN(status=offer.status)
            if _has_other_active_bundle(driver.pk, offer):
                raise DriverErrors.HAS_ACTIVE_JOB()
            offer.status = OfferStatus.ACCEPTED
            offer.responded_at = now
            offer.save(update_fields=["status", "responded_at"])
            _take_orders(offer, profile=profile, driver=driver, actor=driver, now=now)
            record_offer_event(offer, "accepted")
    except IntegrityError as error:
        # The unique indexes caught a race the locks should already have prevented.
        raise OfferErrors.TAKEN() from error
    OFFERS.labels(outcome="accepted").inc()
    _withdraw_after_commit(list(offer.order_ids))
    return offer


def _withdraw_after_commit(order_ids: list[int]) -> None:
    """Withdraw the other offers of these orders once the caller commits; a failure there is logged,
    never the answer to a committed accept (the expire_offers sweep withdraws them then)."""
    transaction.on_commit(lambda: withdraw_offers_for_orders(order_ids=order_ids), robust=True)


@transaction.atomic
def decline_offer(*, driver: User, offer_id: int, now: datetime | None = None) -> Offer:
    """The driver says no: the orders go back to the pool for the next round."""
    now = now or timezone.now()
    offer = Offer.objects.select_for_update().filter(pk=offer_id, driver=driver).first()
    if offer is None:
        raise OfferErrors.NOT_FOUND()
    if offer.status == OfferStatus.DECLINED:
        return offer
    if offer.status != OfferStatus.OFFERED:
        raise OfferErrors.NOT_OPEN(status=offer.status)
    offer.status = OfferStatus.DECLINED
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at"])
    record_offer_event(offer, "declined")
    OFFERS.labels(outcome="declined").inc()
    request_round()
    return offer


def withdraw_offer(*, offer: Offer) -> None:
    """Take back an open offer (the caller holds its lock)."""
    offer.status = OfferStatus.WITHDRAWN
    offer.save(update_fields=["status"])
    record_offer_event(offer, "withdrawn")
    OFFERS.labels(outcome="withdrawn").inc()


@transaction.atomic
def withdraw_offers_for_orders(*, order_ids: Sequence[int]) -> int:
    """Withdraw open offers carrying any of these orders whose orders no longer wait for a driver.
    Offers locked by a racing accept are skipped: that accept fails, and the sweep retries them."""
    offers = (
        Offer.objects.select_for_update(skip_locked=True)
        .filter(status=OfferStatus.OFFERED, order_ids__overlap=list(order_ids))
        .order_by("pk")
    )
    withdrawn = 0
    for offer in offers:
        waiting = DispatchRequest.objects.filter(
            pk__in=offer.order_ids, status=DispatchStatus.WAITING
        ).count()
        if waiting != len(offer.order_ids):
            withdraw_offer(offer=offer)
            withdrawn += 1
    return withdrawn


@transaction.atomic
def expire_offers(*, now: datetime | None = None, limit: int = 500) -> int:
    """Mark overdue open offers expired (the deadline lives in the database); their orders return to
    the pool. Idempotent; safe to run from several workers (SKIP LOCKED)."""
    now = now or timezone.now()
    due = list(
        Offer.objects.select_for_update(skip_locked=True)
        .filter(status=OfferStatus.OFFERED, expires_at__lte=now)
        .order_by("pk")[:limit]
    )
    for offer in due:
        offer.status = OfferStatus.EXPIRED
        offer.save(update_fields=["status"])
        record_offer_event(offer, "expired")
    if due:
        OFFERS.labels(outcome="expired").inc(len(due))
        request_round()
    return len(due)


@transaction.atomic
def withdraw_stale_offers() -> int:
    """Withdraw open offers whose orders were taken, cancelled or closed meanwhile (sweep)."""
    open_order_ids = Offer.objects.filter(status=OfferStatus.OFFERED).values_list("order_ids", flat=True)
    order_ids = sorted({order_id for ids in open_order_ids for order_id in ids})
    if not order_ids:
        return 0
    return withdraw_offers_for_orders(order_ids=order_ids)


# --- Ops -----------------------------------------------------------------------------------------


def _refuse_cash_over_limit(profile: DriverProfile, *, order_id: int) -> None:
    """A driver over the cash limit is given no cash order, by dispatch or by hand."""
    if takes_cash_orders(profile.cash_balance_vnd):
        return
    if Order.objects.filter(pk=order_id, payment_method=PaymentMethod.CASH).exists():
        raise CashErrors.OVER_CASH_LIMIT(
            extra={"cash_balance_vnd": profile.cash_balance_vnd}, limit_vnd=settings.DRIVER_CASH_LIMIT_VND
        )


def assign_by_ops(*, actor: User, order_id: int, driver_id: int, now: datetime | None = None) -> Offer:
    """Ops give a waiting order to a driver by hand (accepted on the driver's behalf). Asked again
    while the job it opened is active, it returns that offer and writes nothing."""
    now = now or timezone.now()
    driver = User.objects.filter(pk=driver_id).first()
    if driver is None:
        raise UserErrors.NOT_A_DRIVER()
    try:
        with transaction.atomic():
            profile = _lock_profile(driver_id)
            if not DispatchRequest.objects.filter(pk=order_id, status=DispatchStatus.WAITING).exists():
                done = Offer.objects.filter(
                    driver_id=driver_id,
                    order_ids=[order_id],
                    created_by=actor,
                    jobs__order_id=order_id,
                    jobs__state__in=ACTIVE_JOB_STATES,
                ).first()
                if done is not None:
                    return done
                raise JobErrors.ORDER_NOT_DISPATCHABLE()
            _refuse_cash_over_limit(profile, order_id=order_id)
            offer = Offer.objects.create(
                driver=driver,
                order_ids=[order_id],
                status=OfferStatus.ACCEPTED,
                expires_at=now,
                responded_at=now,
                created_by=actor,
            )
            _take_orders(offer, profile=profile, driver=driver, actor=actor, now=now)
            record_offer_event(offer, "accepted")
    except IntegrityError as error:
        raise DriverErrors.HAS_ACTIVE_JOB() from error
    _withdraw_after_commit([order_id])
    return offer


def unassign_by_ops(*, actor: User, order_id: int, reason: str = "", now: datetime | None = None) -> Job:
    """Ops take an order back from its driver before pickup; it returns to the pool. Asked again by
    the same ops user once done (no driver since), it returns the cancelled job and writes nothing;
    two at once both reach `cancel_job`, whose job lock lets one of them write."""
    now = now or timezone.now()
    reason = reason or "unassigned_by_ops"
    job = Job.objects.filter(order_id=order_id, state__in=ACTIVE_JOB_STATES).first()
    if job is None:
        done = _unassigned_by(actor, order_id=order_id, reason=reason)
        if done is None:
            raise JobErrors.NOT_FOUND()
        return done
    with transaction.atomic():
        job = cancel_job(job_id=job.pk, reason=reason, now=now, actor=actor, unassign=True)
    request_round()
    return job


def _unassigned_by(actor: User, *, order_id: int, reason: str) -> Job | None:
    """The order's last job if `actor` took the order back from it for `reason` and nothing
    happened to the order's driver since."""
    job = Job.objects.filter(order_id=order_id).order_by("-pk").first()
    if job is None or job.state != JobState.CANCELLED or job.failure_reason != reason[:255]:
        return None
    last_driver_change = (
        OrderEvent.objects.filter(
            order_id=order_id, kind__in=(OrderEventKind.DRIVER_ASSIGNED, OrderEventKind.DRIVER_UNASSIGNED)
        )
        .order_by("-version")
        .first()
    )
    if last_driver_change is None or last_driver_change.kind != OrderEventKind.DRIVER_UNASSIGNED:
        return None
    return job if last_driver_change.actor_id == actor.pk else None
