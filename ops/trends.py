"""A merchant's last 30 days, for the charts of the merchant dashboard: one query per chart, the grouping
and arithmetic done by PostgreSQL, days counted in Ho Chi Minh City time.

Definitions (the dashboard's footnote says the same):
- orders per day: orders placed that local day; sales: their totals without rejected and cancelled
  orders (the same as the dashboard's "sales today");
- top dishes: portions ordered in orders that were not rejected or cancelled;
- cancellation reasons: orders placed in the window then rejected or cancelled, by the reason given;
- preparation time: acceptance to ready, by the local day the order was ready;
- ratings: the customers' stars for the merchant, by the local day they rated.
Unpaid e-wallet orders are not the merchant's business and count nowhere.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from merchants.models import Merchant
from ops.selectors import CLOSED_UNDELIVERED, LOCAL_TZ
from orders.models import HIDDEN_FROM_MERCHANT, Order, OrderLine, Rating

TREND_DAYS = 30
TOP_DISHES = 8
TOP_REASONS = 8


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    sales_vnd: int


@dataclass(frozen=True)
class DayMean:
    """A day's mean (minutes, stars) over `count` orders or ratings; None on a day without any."""

    day: date
    mean: float | None
    count: int


@dataclass(frozen=True)
class MerchantTrends:
    days: list[date]
    sales: list[DaySales]
    top_dishes: list[tuple[str, int]]
    cancellation_reasons: list[tuple[str, int]]
    prep_minutes: list[DayMean]
    ratings: list[DayMean]

    @property
    def mean_prep_minutes(self) -> float | None:
        return _overall(self.prep_minutes)

    @property
    def mean_stars(self) -> float | None:
        return _overall(self.ratings)


def _overall(days: Iterable[DayMean]) -> float | None:
    """The window's mean, weighting each day's mean by its count (no second query)."""
    total = count = 0.0
    for day in days:
        if day.mean is not None:
            total += day.mean * day.count
            count += day.count
    return round(total / count, 1) if count else None


def trend_days(now: datetime | None = None, *, days: int = TREND_DAYS) -> tuple[list[date], datetime]:
    """The last `days` local days (today last) and the local midnight the first one starts at."""
    today = (now or timezone.now()).astimezone(LOCAL_TZ).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=LOCAL_TZ)
    return [first + timedelta(days=i) for i in range(days)], start


def _merchant_orders(merchant: Merchant) -> QuerySet[Order]:
    return Order.objects.filter(merchant=merchant).exclude(payment_status__in=HIDDEN_FROM_MERCHANT).order_by()


def _local_day(field: str) -> TruncDate:
    return TruncDate(field, tzinfo=LOCAL_TZ)


def daily_sales(merchant: Merchant, days: list[date], start: datetime) -> list[DaySales]:
    """Orders placed and sales per local day, empty days included."""
    rows = (
        _merchant_orders(merchant)
        .filter(created_at__gte=start)
        .annotate(day=_local_day("created_at"))
        .values("day")
        .annotate(n=Count("id"), sales=Sum("total_vnd", filter=~Q(status__in=CLOSED_UNDELIVERED)))
    )
    by_day = {row["day"]: row for row in rows}
    return [
        DaySales(day, by_day[day]["n"], by_day[day]["sales"] or 0) if day in by_day else DaySales(day, 0, 0)
        for day in days
    ]


def top_dishes(merchant: Merchant, start: datetime, *, limit: int = TOP_DISHES) -> list[tuple[str, int]]:
    """Portions per dish (by the name on the order), the most ordered first."""
    rows = (
        OrderLine.objects.filter(order__merchant=merchant, order__created_at__gte=start)
        .exclude(order__payment_status__in=HIDDEN_FROM_MERCHANT)
        .exclude(order__status__in=CLOSED_UNDELIVERED)
        .order_by()
        .values("name")
        .annotate(portions=Sum("quantity"))
        .order_by("-portions", "name")[:limit]
    )
    return [(row["name"], row["portions"]) for row in rows]


def cancellation_reasons(
    merchant: Merchant, start: datetime, *, limit: int = TOP_REASONS
) -> list[tuple[str, int]]:
    """Rejected or cancelled orders by reason (an empty reason is its own row), the commonest first."""
    rows = (
        _merchant_orders(merchant)
        .filter(created_at__gte=start, status__in=CLOSED_UNDELIVERED)
        .values("status_reason")
        .annotate(n=Count("id"))
        .order_by("-n", "status_reason")[:limit]
    )
    return [(row["status_reason"], row["n"]) for row in rows]


def _day_means(
    rows: Iterable[dict[str, Any]], days: list[date], to_float: Callable[[Any], float]
) -> list[DayMean]:
    """One `DayMean` per day of the window from grouped rows (`day`, `n`, `mean`)."""
    by_day = {row["day"]: row for row in rows if row["mean"] is not None}
    return [
        DayMean(day, to_float(by_day[day]["mean"]), by_day[day]["n"])
        if day in by_day
        else DayMean(day, None, 0)
        for day in days
    ]


def daily_prep_minutes(merchant: Merchant, days: list[date], start: datetime) -> list[DayMean]:
    """Mean minutes from acceptance to ready, per local day the orders were ready."""
    rows = (
        _merchant_orders(merchant)
        .filter(ready_at__gte=start, accepted_at__isnull=False)
        .annotate(day=_local_day("ready_at"))
        .values("day")
        .annotate(
            n=Count("id"),
            mean=Avg(ExpressionWrapper(F("ready_at") - F("accepted_at"), output_field=DurationField())),
        )
    )
    return _day_means(rows, days, lambda mean: round(mean.total_seconds() / 60, 1))


def daily_ratings(merchant: Merchant, days: list[date], start: datetime) -> list[DayMean]:
    """Mean stars the customers gave the merchant, per local day they rated."""
    rows = (
        Rating.objects.filter(merchant=merchant, created_at__gte=start)
        .order_by()
        .annotate(day=_local_day("created_at"))
        .values("day")
        .annotate(n=Count("id"), mean=Avg("merchant_stars"))
    )
    return _day_means(rows, days, lambda mean: round(float(mean), 2))


def merchant_trends(merchant: Merchant, now: datetime | None = None) -> MerchantTrends:
    """The five charts' figures in five queries."""
    days, start = trend_days(now)
    return MerchantTrends(
        days=days,
        sales=daily_sales(merchant, days, start),
        top_dishes=top_dishes(merchant, start),
        cancellation_reasons=cancellation_reasons(merchant, start),
        prep_minutes=daily_prep_minutes(merchant, days, start),
        ratings=daily_ratings(merchant, days, start),
    )
