"""The figures of the ops and merchant dashboards, read from PostgreSQL.

Definitions (the dashboard's footnotes say the same):
- orders: placed in the window; GMV: their totals, without rejected and cancelled orders (VND);
- click-to-door: placement to delivery, over orders delivered in the window; on time: delivered no
  later than the ETA they carried;
- cancellation rate: placed in the window and then cancelled or rejected, over orders placed;
- dispatch time: merchant acceptance to the first driver assignment, over assignments in the window;
- unassigned: accepted but no driver yet; late: active past its ETA; stuck: active and unchanged for
  `OPS_STUCK_MINUTES`.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Floor, Greatest, Least
from django.utils import timezone

from merchants.models import MenuItem, Merchant
from orders.models import (
    HIDDEN_FROM_MERCHANT,
    TERMINAL_STATUSES,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CLOSED_UNDELIVERED = (OrderStatus.REJECTED, OrderStatus.CANCELLED)
WAITING_FOR_DRIVER = (OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY_FOR_PICKUP)
#: Orders in flight: a scheduled order waiting for its release is neither late nor stuck.
ACTIVE_STATUSES = [
    status
    for status in OrderStatus.values
    if status not in TERMINAL_STATUSES and status != OrderStatus.SCHEDULED
]


@dataclass(frozen=True)
class Window:
    label: str
    start: datetime
    end: datetime


def today_and_last_hour(now: datetime | None = None) -> list[Window]:
    """Today (local midnight in Ho Chi Minh City until now) and the last 60 minutes."""
    now = now or timezone.now()
    midnight = now.astimezone(LOCAL_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    return [Window("today", midnight, now), Window("last_hour", now - timedelta(hours=1), now)]


@dataclass
class OrderFigures:
    orders: int = 0
    gmv_vnd: int = 0
    delivered: int = 0
    mean_click_to_door_minutes: float | None = None
    on_time_share: float | None = None
    cancelled: int = 0
    cancellation_rate: float | None = None
    cancellation_reasons: list[tuple[str, int]] = field(default_factory=list)
    dispatched: int = 0
    mean_dispatch_minutes: float | None = None


def _minutes(duration: timedelta | None) -> float | None:
    return None if duration is None else round(duration.total_seconds() / 60, 1)


def order_figures(window: Window, orders: QuerySet[Order] | None = None) -> OrderFigures:
    """Orders, GMV, click-to-door, on-time share, cancellations and dispatch time in the window."""
    orders = Order.objects.all() if orders is None else orders
    placed = orders.filter(created_at__gte=window.start, created_at__lt=window.end).order_by()
    counts = placed.aggregate(
        n=Count("id"),
        gmv=Sum("total_vnd", filter=~Q(status__in=CLOSED_UNDELIVERED)),
        cancelled=Count("id", filter=Q(status__in=CLOSED_UNDELIVERED)),
    )
    figures = OrderFigures(orders=counts["n"], gmv_vnd=counts["gmv"] or 0, cancelled=counts["cancelled"])
    if figures.orders:
        figures.cancellation_rate = figures.cancelled / figures.orders
    figures.cancellation_reasons = [
        (row["reason"], row["n"])
        for row in placed.filter(status__in=CLOSED_UNDELIVERED)
        .annotate(reason=F("status_reason"))
        .values("reason")
        .annotate(n=Count("id"))
        .order_by("-n", "reason")[:6]
    ]
    delivered = orders.filter(delivered_at__gte=window.start, delivered_at__lt=window.end).order_by()
    door = delivered.aggregate(
        n=Count("id"),
        mean=Avg(ExpressionWrapper(F("delivered_at") - F("created_at"), output_field=DurationField())),
        with_eta=Count("id", filter=Q(eta__isnull=False)),
        on_time=Count("id", filter=Q(delivered_at__lte=F("eta"))),
    )
    figures.delivered = door["n"]
    figures.mean_click_to_door_minutes = _minutes(door["mean"])
    if door["with_eta"]:
        figures.on_time_share = door["on_time"] / door["with_eta"]
    first_assignment = (
        OrderEvent.objects.filter(order_id=OuterRef("pk"), kind=OrderEventKind.DRIVER_ASSIGNED)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    dispatched = (
        orders.filter(accepted_at__isnull=False)
        .annotate(assigned_at=Subquery(first_assignment))
        .filter(assigned_at__gte=window.start, assigned_at__lt=window.end)
        .order_by()
        .aggregate(
            n=Count("id"),
            mean=Avg(
                ExpressionWrapper(
                    Greatest(F("assigned_at") - F("accepted_at"), timedelta(0)), output_field=DurationField()
                )
            ),
        )
    )
    figures.dispatched = dispatched["n"]
    figures.mean_dispatch_minutes = _minutes(dispatched["mean"])
    return figures


class DateBin(Func):
    """PostgreSQL's date_bin(stride, source, origin): the start of the stride-long slot holding source."""

    function = "date_bin"
    output_field = DateTimeField()


def orders_per_quarter_hour(
    window: Window, orders: QuerySet[Order] | None = None
) -> list[tuple[datetime, int]]:
    """Orders placed in each 15-minute slot of the window (local time), empty slots included; the
    counting is one GROUP BY in PostgreSQL."""
    orders = Order.objects.all() if orders is None else orders
    start = window.start.astimezone(LOCAL_TZ)
    start = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0)
    slots: dict[datetime, int] = {}
    slot = start
    while slot < window.end:
        slots[slot] = 0
        slot += timedelta(minutes=15)
    rows = (
        orders.filter(created_at__gte=start, created_at__lt=window.end)
        .order_by()
        .annotate(slot=DateBin(Value(timedelta(minutes=15)), F("created_at"), Value(start)))
        .values("slot")
        .annotate(n=Count("id"))
    )
    for row in rows:
        key = row["slot"].astimezone(LOCAL_TZ)
        slots[key] = slots.get(key, 0) + row["n"]
    return sorted(slots.items())


def delivery_time_distribution(
    window: Window, *, bin_minutes: int = 5, bins: int = 12
) -> list[tuple[str, int]]:
    """Orders delivered in the window by click-to-door minutes, in bins (the last bin is open-ended);
    the binning and counting are one GROUP BY in PostgreSQL."""
    counts = [0] * bins
    seconds = Func(
        F("delivered_at"),
        F("created_at"),
        template="EXTRACT(EPOCH FROM (%(expressions)s))",
        arg_joiner=" - ",
        output_field=FloatField(),
    )
    index = Least(Greatest(Floor(seconds / (bin_minutes * 60)), 0), bins - 1)
    rows = (
        Order.objects.filter(delivered_at__gte=window.start, delivered_at__lt=window.end)
        .order_by()
        .annotate(bin=Cast(index, IntegerField()))
        .values("bin")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["bin"]] = row["n"]
    labels = [f"{i * bin_minutes}-{(i + 1) * bin_minutes}" for i in range(bins - 1)] + [
        f"{(bins - 1) * bin_minutes}+"
    ]
    return list(zip(labels, counts, strict=True))


def unassigned_orders() -> QuerySet[Order]:
    return Order.objects.filter(status__in=WAITING_FOR_DRIVER, driver__isnull=True).exclude(
        payment_status__in=HIDDEN_FROM_MERCHANT
    )


def busy_driver_ids() -> set[int]:
    """Drivers carrying at least one active order."""
    return set(
        Order.objects.filter(status__in=ACTIVE_STATUSES, driver__isnull=False)
        .order_by()
        .values_list("driver_id", flat=True)
        .distinct()
    )


def late_or_stuck_orders(now: datetime | None = None, limit: int = 50) -> list[Order]:
    """Active orders past their ETA or unchanged for `OPS_STUCK_MINUTES`, the longest waiting first."""
    now = now or timezone.now()
    stuck_before = now - timedelta(minutes=settings.OPS_STUCK_MINUTES)
    orders = (
        Order.objects.filter(status__in=ACTIVE_STATUSES)
        .filter(Q(eta__lt=now) | Q(updated_at__lt=stuck_before))
        .exclude(payment_status__in=HIDDEN_FROM_MERCHANT)
        .select_related("merchant", "driver")
        .order_by("updated_at")[:limit]
    )
    result = list(orders)
    for order in result:
        order.is_late = order.eta is not None and order.eta < now  # type: ignore[attr-defined]
        order.is_stuck = order.updated_at < stuck_before  # type: ignore[attr-defined]
    return result


def active_orders(limit: int = 100) -> QuerySet[Order]:
    """The live board's first paint: active orders, newest first (the ops feed updates it)."""
    return (
        Order.objects.filter(status__in=ACTIVE_STATUSES)
        .exclude(payment_status__in=HIDDEN_FROM_MERCHANT)
        .select_related("merchant")
        .order_by("-created_at")[:limit]
    )


@dataclass
class MerchantFigures:
    orders_today: int
    gmv_today_vnd: int
    cancelled_today: int
    prepared_today: int
    mean_prep_minutes: float | None
    rating_avg: float
    rating_count: int
    sold_out: list[str]


def merchant_figures(merchant: Merchant, today: Window) -> MerchantFigures:
    """Orders today, mean preparation time (acceptance to ready, over orders ready today), the rating
    and the items currently sold out. Unpaid e-wallet orders are not the merchant's business."""
    orders = Order.objects.filter(merchant=merchant).exclude(payment_status__in=HIDDEN_FROM_MERCHANT)
    figures = order_figures(today, orders)
    prep = (
        orders.filter(ready_at__gte=today.start, ready_at__lt=today.end, accepted_at__isnull=False)
        .order_by()
        .aggregate(
            n=Count("id"),
            mean=Avg(ExpressionWrapper(F("ready_at") - F("accepted_at"), output_field=DurationField())),
        )
    )
    return MerchantFigures(
        orders_today=figures.orders,
        gmv_today_vnd=figures.gmv_vnd,
        cancelled_today=figures.cancelled,
        prepared_today=prep["n"],
        mean_prep_minutes=_minutes(prep["mean"]),
        rating_avg=float(merchant.rating_avg),
        rating_count=merchant.rating_count,
        sold_out=list(
            MenuItem.objects.filter(merchant=merchant, is_available=False)
            .order_by("name")
            .values_list("name", flat=True)
        ),
    )


def todays_merchant_orders(merchant: Merchant, now: datetime | None = None) -> QuerySet[Order]:
    """The merchant's orders of the local day, newest first, with their lines (one more query): placed
    today, or scheduled for today (placed on an earlier day, due now). Unpaid e-wallet orders are not
    the merchant's business yet."""
    today, _ = today_and_last_hour(now)
    tomorrow = today.start + timedelta(days=1)
    return (
        Order.objects.filter(merchant=merchant)
        .filter(
            Q(created_at__gte=today.start, created_at__lt=tomorrow)
            | Q(scheduled_for__gte=today.start, scheduled_for__lt=tomorrow)
        )
        .exclude(payment_status__in=HIDDEN_FROM_MERCHANT)
        .prefetch_related("lines")
        .order_by("-created_at", "-id")
    )
