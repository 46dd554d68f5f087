"""Reads of the drivers app shared by the API, the WebSocket consumer and ops."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import BigIntegerField, Count, Q, QuerySet, Sum
from django.utils import timezone

from drivers.events import job_payload, offer_payload
from drivers.models import (
    ACTIVE_JOB_STATES,
    CashSettlement,
    DriverProfile,
    Job,
    JobState,
    Offer,
    OfferStatus,
)
from loship.timefmt import iso_or_none
from orders.models import LedgerEntry, LedgerKind, Order
from orders.selectors import read_order_snapshot

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def open_offers(driver_id: int, *, now: datetime | None = None) -> QuerySet[Offer]:
    now = now or timezone.now()
    return Offer.objects.filter(driver_id=driver_id, status=OfferStatus.OFFERED, expires_at__gt=now).order_by(
        "pk"
    )


def active_jobs(driver_id: int) -> QuerySet[Job]:
    return (
        Job.objects.filter(driver_id=driver_id, state__in=ACTIVE_JOB_STATES)
        .select_related("order__merchant")
        .order_by("offer_id", "sequence")
    )


def visible_order(driver_id: int, order_id: int, *, now: datetime | None = None) -> Order | None:
    """The order while it is this driver's business: an open, unexpired offer of it, or their active job
    on it. None otherwise (the API answers 404): once an offer is withdrawn, declined or expired, or the
    job has ended, the customer's phone, address and lines are no longer theirs to read; the earnings
    keep the job's order id and pay."""
    if not 0 < order_id <= BigIntegerField.MAX_BIGINT:
        return None  # PostgreSQL refuses an out-of-range element in the array lookup below
    offered = open_offers(driver_id, now=now).filter(order_ids__contains=[order_id]).exists()
    active = Job.objects.filter(driver_id=driver_id, order_id=order_id, state__in=ACTIVE_JOB_STATES)
    if not offered and not active.exists():
        return None
    return Order.objects.select_related("merchant").filter(pk=order_id).first()


def driver_order_view(order: Order) -> dict[str, Any]:
    """What a driver sees of an order: the snapshot without the customer's delivery code."""
    snapshot = read_order_snapshot(order.pk)
    if snapshot is None:  # orders are never deleted (PROTECT); a gone row is a bug, not a 404
        raise Order.DoesNotExist(order.pk)
    return {**snapshot.body, "customer_phone": order.customer_phone}


def daily_summary(driver_id: int, day: date) -> dict[str, Any]:
    """Deliveries, earnings and cash of one local (Ho Chi Minh City) day. Tips count on the day they
    reached the driver's earnings (at delivery, or when paid later); each line shows its order's tip."""
    start = datetime.combine(day, time(0), tzinfo=LOCAL_TZ)
    ended = Job.objects.filter(
        driver_id=driver_id, ended_at__gte=start, ended_at__lt=start + timedelta(days=1)
    )
    totals = ended.aggregate(
        delivered=Count("pk", filter=Q(state=JobState.DELIVERED)),
        failed=Count("pk", filter=Q(state=JobState.FAILED)),
        base=Sum("base_pay_vnd", filter=Q(state=JobState.DELIVERED), default=0),
        distance=Sum("distance_pay_vnd", filter=Q(state=JobState.DELIVERED), default=0),
        distance_m=Sum("distance_m", filter=Q(state=JobState.DELIVERED), default=0),
        cash=Sum("cash_collected_vnd", default=0),
    )
    jobs = list(ended.order_by("ended_at", "pk"))
    tips_that_day = _tips(driver_id).filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    tips_vnd = tips_that_day.aggregate(total=Sum("amount_vnd", default=0))["total"]
    tip_of_order = dict(
        _tips(driver_id)
        .filter(order_id__in=[job.order_id for job in jobs])
        .values_list("order_id", "amount_vnd")
    )
    return {
        "date": day.isoformat(),
        "delivered": totals["delivered"],
        "failed": totals["failed"],
        "distance_m": totals["distance_m"],
        "base_pay_vnd": totals["base"],
        "distance_pay_vnd": totals["distance"],
        "tips_vnd": tips_vnd,
        "earnings_vnd": totals["base"] + totals["distance"] + tips_vnd,
        "cash_collected_vnd": totals["cash"],
        "orders": [
            {
                "job_id": job.pk,
                "order_id": job.order_id,
                "state": job.state,
                "ended_at": iso_or_none(job.ended_at),
                "earned_vnd": job.earned_vnd,
                "tip_vnd": tip_of_order.get(job.order_id, 0) if job.state == JobState.DELIVERED else 0,
                "cash_collected_vnd": job.cash_collected_vnd,
            }
            for job in jobs
        ],
    }


def _tips(driver_id: int) -> QuerySet[LedgerEntry]:
    """The tips booked to the driver's earnings (each a `tip_payout` ledger entry)."""
    return LedgerEntry.objects.filter(driver_id=driver_id, kind=LedgerKind.TIP_PAYOUT)


def today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(LOCAL_TZ).date()


def profile_view(profile: DriverProfile) -> dict[str, Any]:
    return {
        "user_id": profile.user_id,
        "vehicle": profile.vehicle,
        "plate": profile.plate,
        "phone": profile.phone,
        "is_online": profile.is_online,
        "shift_ends_at": iso_or_none(profile.shift_ends_at),
        "last_lat": str(profile.last_lat) if profile.last_lat is not None else None,
        "last_lng": str(profile.last_lng) if profile.last_lng is not None else None,
        "last_fix_at": iso_or_none(profile.last_fix_at),
        "cash_balance_vnd": profile.cash_balance_vnd,
    }


def job_view(job: Job) -> dict[str, Any]:
    """A job as its driver sees it; once it has ended, without the customer's phone and note."""
    order = job.order
    delivery = {
        "address": order.delivery_address,
        "lat": str(order.delivery_lat),
        "lng": str(order.delivery_lng),
    }
    if job.state in ACTIVE_JOB_STATES:
        delivery |= {"note": order.delivery_note, "customer_phone": order.customer_phone}
    return {
        **job_payload(job),
        "order_code": order.code,
        "order_status": order.status,
        "merchant": {
            "id": order.merchant_id,
            "name": order.merchant.name,
            "lat": str(order.merchant.lat),
            "lng": str(order.merchant.lng),
            "address": order.merchant.address,
        },
        "delivery": delivery,
        "distance_m": job.distance_m,
        "cash_to_collect_vnd": job.cash_to_collect_vnd,
        "cash_collected_vnd": job.cash_collected_vnd,
        "pay_vnd": job.base_pay_vnd + job.distance_pay_vnd,
    }


def driver_snapshot(profile: DriverProfile) -> dict[str, Any]:
    """What the driver app redraws on (re)connect: profile, open offers, current jobs."""
    return {
        "type": "snapshot",
        "profile": profile_view(profile),
        "offers": [offer_payload(offer) for offer in open_offers(profile.user_id)],
        "jobs": [job_view(job) for job in active_jobs(profile.user_id)],
    }


def takes_cash_orders(balance_vnd: int) -> bool:
    """Whether a driver owing `balance_vnd` of cash on delivery may be offered cash orders."""
    return balance_vnd <= settings.DRIVER_CASH_LIMIT_VND


def cash_state(balance_vnd: int) -> dict[str, Any]:
    """What the driver app shows of the cash owed (in the API and on the driver's stream)."""
    return {
        "cash_balance_vnd": balance_vnd,
        "cash_limit_vnd": settings.DRIVER_CASH_LIMIT_VND,
        "takes_cash_orders": takes_cash_orders(balance_vnd),
    }


def cash_settlements(driver_id: int) -> QuerySet[CashSettlement]:
    """The driver's settlements, newest first (pending and failed top-ups included)."""
    return CashSettlement.objects.filter(driver_id=driver_id).order_by("-created_at", "-id")


def settlement_view(settlement: CashSettlement) -> dict[str, Any]:
    return {
        "id": settlement.pk,
        "method": settlement.method,
        "status": settlement.status,
        "amount_vnd": settlement.amount_vnd,
        "balance_after_vnd": settlement.balance_after_vnd,
        "hub": settlement.hub,
        "pay_url": settlement.pay_url,
        "deeplink": settlement.deeplink,
        "created_at": iso_or_none(settlement.created_at),
        "completed_at": iso_or_none(settlement.completed_at),
    }


def largest_cash_balances(limit: int = 10) -> list[DriverProfile]:
    """The drivers owing the most cash on delivery (ops' dashboard), largest first."""
    return list(
        DriverProfile.objects.select_related("user")
        .filter(cash_balance_vnd__gt=0)
        .order_by("-cash_balance_vnd", "pk")[:limit]
    )
