"""Reads about merchants that other apps use: who works where, and whether a merchant is open."""

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from merchants.models import ClosedDate, Merchant, OpeningHours, StaffMembership

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def merchants_for_staff(user: object) -> QuerySet[Merchant]:
    """The merchants `user` works for as staff (ops see every merchant through other paths)."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return Merchant.objects.none()
    return Merchant.objects.filter(memberships__user_id=user_id).distinct()


def open_at(hours: Iterable[OpeningHours], closed_dates: Collection[date], *, local: datetime) -> bool:
    """Pure check over already-loaded rows: is the merchant open at the local wall-clock time `local`?

    An interval belongs to the day it starts on: a closed date shuts that day's intervals, and the
    tail of yesterday's 22:00-02:00 still serves after midnight unless yesterday was closed.
    The nearby list says the same in SQL (`merchants.catalog._OPEN`); tests check they agree.
    """
    today, now = local.date(), local.time()
    yesterday = today - timedelta(days=1)
    for interval in hours:
        all_day = interval.opens_at == interval.closes_at
        if interval.weekday == today.weekday() and today not in closed_dates:
            if all_day or (interval.crosses_midnight and now >= interval.opens_at):
                return True
            if interval.opens_at <= now < interval.closes_at:
                return True
        spills_over = interval.crosses_midnight and not all_day and now < interval.closes_at
        if interval.weekday == yesterday.weekday() and yesterday not in closed_dates and spills_over:
            return True
    return False


def is_open_now(merchant: Merchant, at: datetime | None = None) -> bool:
    """Open at `at` (default now) by its weekly hours and closed dates, in Asia/Ho_Chi_Minh.

    The busy switch is a separate refusal (`merchant_busy`), so it is not folded in here. A merchant
    with no hours at all is closed.
    """
    local = (at or timezone.now()).astimezone(LOCAL_TZ)
    today = local.date()
    yesterday = today - timedelta(days=1)
    hours = list(
        OpeningHours.objects.filter(merchant=merchant, weekday__in=[today.weekday(), yesterday.weekday()])
    )
    if not hours:
        return False
    closed = set(
        ClosedDate.objects.filter(merchant=merchant, date__in=[today, yesterday]).values_list(
            "date", flat=True
        )
    )
    return open_at(hours, closed, local=local)


def local_today() -> date:
    return timezone.now().astimezone(LOCAL_TZ).date()


def membership_role(user: object, merchant_id: int) -> str | None:
    """The user's role at this merchant, or None if they do not work there."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return None
    return (
        StaffMembership.objects.filter(user_id=user_id, merchant_id=merchant_id)
        .values_list("role", flat=True)
        .first()
    )
