"""The simulation's side of PostgreSQL (Django set up): the actors it seeds before a run, and what the
database holds after it, read into the ledger's plain records. Nothing here runs during the load but
`open_orders`, the check that tells the apps their orders have all ended.
"""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from decimal import Decimal

from django.db.models import Sum
from rest_framework_simplejwt.tokens import RefreshToken

from bench.city.apps import Actors
from bench.city.ledger import InboxRow, Notice, OrderRecord, OrderTruth, OutboxRecord
from drivers import services as driver_services
from drivers.models import DriverProfile, Job, JobState, Offer
from drivers.notifications import offer_notices
from loship.events.models import OutboxEvent
from merchants.models import MenuItem, Merchant, OpeningHours, StaffMembership
from notifications.models import DeliveryAttempt, DeliveryStatus, Notification
from orders.models import TERMINAL_STATUSES, Order, OrderEvent
from orders.notifications import order_notices
from users.models import Device, Platform, Role, User

CENTER = (10.7769, 106.7009)  # District 1
PHONE_PREFIX = "+8498"


def _token(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


def _user(phone: str, role: str, name: str) -> User:
    user, _ = User.objects.get_or_create(phone=phone, defaults={"full_name": name, "roles": [role]})
    if role not in user.roles:
        user.roles = [*user.roles, role]
        user.save(update_fields=["roles"])
    # One phone each, so every notification calls for a push (the run's push receiver gets it).
    Device.objects.get_or_create(
        token=f"city-{user.pk}", defaults={"user": user, "platform": Platform.ANDROID}
    )
    return user


def seed_city(*, merchants: int, customers: int, drivers: int, rng: random.Random) -> Actors:
    """The actors (idempotent): merchants open all week with a small menu and a staff account,
    customers, and drivers online at a point near their area."""
    city = Actors([], [], [])
    for i in range(merchants):
        lat = Decimal(str(round(CENTER[0] + rng.uniform(-0.02, 0.02), 6)))
        lng = Decimal(str(round(CENTER[1] + rng.uniform(-0.02, 0.02), 6)))
        merchant, created = Merchant.objects.get_or_create(
            slug=f"sim-{i}",
            defaults={
                "name": f"Quán mô phỏng {i}",
                "address": f"{i} Lê Lợi, Q1",
                "lat": lat,
                "lng": lng,
                "phone": "+842838000000",
                "min_order_vnd": 0,
                "delivery_radius_m": 15000,
                "prep_minutes": 10,
                "is_active": True,
            },
        )
        if created:
            OpeningHours.objects.bulk_create(
                OpeningHours(merchant=merchant, weekday=day, opens_at=dtime(0), closes_at=dtime(0))
                for day in range(7)
            )
            MenuItem.objects.create(
                merchant=merchant, name="Cơm tấm sườn", price_vnd=45_000, is_available=True
            )
            MenuItem.objects.create(merchant=merchant, name="Trà đá", price_vnd=5_000, is_available=True)
        staff = _user(f"{PHONE_PREFIX}1{i:05d}", Role.MERCHANT_STAFF, f"Chủ quán {i}")
        StaffMembership.objects.get_or_create(user=staff, merchant=merchant, defaults={"role": "owner"})
        items = list(
            MenuItem.objects.filter(merchant=merchant, is_available=True).values_list("pk", flat=True)
        )
        city.merchants.append(
            {
                "id": merchant.pk,
                "lat": float(merchant.lat),
                "lng": float(merchant.lng),
                "items": items,
                "token": _token(staff),
            }
        )
    for i in range(customers):
        user = _user(f"{PHONE_PREFIX}2{i:05d}", Role.CUSTOMER, f"Khách {i}")
        city.customers.append({"id": user.pk, "token": _token(user)})
    for i in range(drivers):
        user = _user(f"{PHONE_PREFIX}3{i:05d}", Role.DRIVER, f"Tài xế {i}")
        driver_services.ensure_profile(user=user)
        driver_services.go_online(user=user)
        lat, lng = CENTER[0] + rng.uniform(-0.03, 0.03), CENTER[1] + rng.uniform(-0.03, 0.03)
        city.drivers.append({"id": user.pk, "lat": lat, "lng": lng, "token": _token(user)})
    return city


def _orders(since: datetime, customer_ids: list[int]) -> "list[Order]":
    return list(Order.objects.filter(customer_id__in=customer_ids, created_at__gte=since).order_by("pk"))


def open_orders(*, since: datetime, customer_ids: list[int]) -> int:
    """Orders of the run not ended yet."""
    return (
        Order.objects.filter(customer_id__in=customer_ids, created_at__gte=since)
        .exclude(status__in=TERMINAL_STATUSES)
        .count()
    )


def pending_work(*, since: datetime) -> int:
    """Outbox events not yet published and pushes not yet tried since `since`: the system still owes them."""
    unpublished = OutboxEvent.objects.filter(created_at__gte=since, published_at__isnull=True).count()
    return (
        unpublished
        + DeliveryAttempt.objects.filter(created_at__gte=since, status=DeliveryStatus.PENDING).count()
    )


def cash_balances(driver_ids: list[int]) -> dict[int, int]:
    return dict(DriverProfile.objects.filter(pk__in=driver_ids).values_list("pk", "cash_balance_vnd"))


@dataclass
class Facts:
    """What PostgreSQL holds about the run, as the ledger's records."""

    orders: list[OrderRecord]
    truths: list[OrderTruth]
    outbox: list[OutboxRecord]
    notices: list[Notice]
    inbox: list[InboxRow]
    event_at: dict[str, float]
    tokens: dict[int, list[str]]
    merchant_due: dict[int, float]  # order id -> placed at
    driver_due: dict[int, float]  # offer id -> offered at
    cash_collected: dict[int, int]


def collect(*, since: datetime, customer_ids: list[int], driver_ids: list[int]) -> Facts:
    orders = _orders(since, customer_ids)
    order_ids = [order.pk for order in orders]
    history: dict[int, list[tuple[int, str, float]]] = defaultdict(list)
    for order_id, version, kind, created_at in OrderEvent.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "version", "kind", "created_at"
    ):
        history[order_id].append((version, kind, created_at.timestamp()))
    drivers: dict[int, set[int]] = defaultdict(set)
    for order_id, driver_id in (
        Job.objects.filter(order_id__in=order_ids)
        .exclude(state=JobState.CANCELLED)
        .values_list("order_id", "driver_id")
    ):
        drivers[order_id].add(driver_id)
    events = list(OutboxEvent.objects.filter(created_at__gte=since).order_by("pk"))
    wanted = set(order_ids)
    notices: list[Notice] = []
    for event in events:
        if event.topic.startswith("order.") and event.payload.get("order_id") in wanted:
            found = order_notices(event)
        elif event.topic == "offer.created" and wanted & set(event.payload.get("order_ids", [])):
            found = offer_notices(event)
        else:
            continue
        notices += [
            Notice(n.user.pk, n.kind, str(event.event_id), event.created_at.timestamp()) for n in found
        ]
    event_at = {str(event.event_id): event.created_at.timestamp() for event in events}
    inbox = [
        InboxRow(
            row.pk,
            row.user_id,
            row.kind,
            str(row.source_event_id),
            f"offer:{row.data['offer_id']}"
            if "offer_id" in row.data
            else f"order:{row.data.get('order_id')}",
            row.created_at.timestamp(),
        )
        for row in Notification.objects.filter(source_event_id__in=list(event_at))
    ]
    tokens: dict[int, list[str]] = defaultdict(list)
    for user_id, token in Device.objects.filter(user_id__in={row.user_id for row in inbox}).values_list(
        "user_id", "token"
    ):
        tokens[user_id].append(token)
    collected = (
        Job.objects.filter(driver_id__in=driver_ids, state=JobState.DELIVERED, ended_at__gte=since)
        .values("driver_id")
        .annotate(total=Sum("cash_collected_vnd"))
    )
    return Facts(
        orders=[
            OrderRecord(
                order.pk,
                order.status,
                order.status_reason,
                [(version, kind) for version, kind, _ in history[order.pk]],
                sorted(drivers[order.pk]),
            )
            for order in orders
        ],
        truths=[
            OrderTruth(order.pk, order.status, [(version, at) for version, _, at in history[order.pk]])
            for order in orders
        ],
        outbox=[
            OutboxRecord(
                str(event.event_id),
                f"{event.aggregate_type}:{event.aggregate_id}",
                event.sequence if event.aggregate_type == "order" else 0,
                event.published_at is not None,
                bool(event.failed_to),
            )
            for event in events
        ],
        notices=notices,
        inbox=inbox,
        event_at=event_at,
        tokens=dict(tokens),
        merchant_due={order.pk: order.created_at.timestamp() for order in orders},
        driver_due={
            offer_id: created_at.timestamp()
            for offer_id, created_at in Offer.objects.filter(
                driver_id__in=driver_ids, created_at__gte=since
            ).values_list("pk", "created_at")
        },
        cash_collected={row["driver_id"]: int(row["total"] or 0) for row in collected},
    )
