"""Merchant statements: what a merchant sold, paid and is owed over a period, read from the ledger.

A statement is a read of the ledger entries that name the merchant (`LedgerEntry.merchant`, booked by
`orders.services.settlement`), created within the period's days in Asia/Ho_Chi_Minh: one line per
order that has entries in the period, and the totals. An order belongs to the period its delivery
was booked in; a refund after delivery belongs to the period it was booked in, even when the order was
delivered earlier (its line then shows only the refund).

    net payout = gross - commission - merchant-funded discounts - refunds after delivery

which equals, to the dong, the period's credits minus debits of the merchant's payable account; the
statement carries both so that a reader (and a test) sees they agree. Platform-funded discounts are
shown but not deducted (the platform pays them). Tips are the driver's and never appear here.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum

from merchants.models import Merchant
from orders.errors import SettlementErrors
from orders.models import LedgerAccount, LedgerEntry, LedgerKind

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: The longest period one statement covers.
MAX_PERIOD_DAYS = 366

#: Per-line amounts: the ledger kind each one sums.
AMOUNT_KINDS = {
    "gross_vnd": LedgerKind.SALE,
    "commission_vnd": LedgerKind.COMMISSION,
    "merchant_promo_vnd": LedgerKind.MERCHANT_PROMO,
    "platform_promo_vnd": LedgerKind.PLATFORM_PROMO,
    "refunds_vnd": LedgerKind.MERCHANT_REFUND,
}


@dataclass
class StatementLine:
    order_id: int | None = None
    order_code: str = ""
    delivered_at: datetime | None = None
    payment_method: str = ""
    commission_bps: int | None = None
    gross_vnd: int = 0
    commission_vnd: int = 0
    merchant_promo_vnd: int = 0
    platform_promo_vnd: int = 0
    refunds_vnd: int = 0

    @property
    def net_vnd(self) -> int:
        return self.gross_vnd - self.commission_vnd - self.merchant_promo_vnd - self.refunds_vnd


@dataclass
class Statement:
    merchant: Merchant
    start: date
    end: date  # inclusive
    lines: list[StatementLine]
    #: Credits minus debits of the merchant's payable account in the period, straight from the ledger.
    ledger_net_vnd: int
    totals: StatementLine = field(init=False)

    def __post_init__(self) -> None:
        self.totals = StatementLine(
            **{name: sum(getattr(line, name) for line in self.lines) for name in AMOUNT_KINDS}
        )

    @property
    def reconciled(self) -> bool:
        return self.totals.net_vnd == self.ledger_net_vnd


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def current_month() -> tuple[date, date]:
    """This month in Ho Chi Minh City, the default period."""
    return month_of(datetime.now(LOCAL_TZ).date())


def check_period(start: date, end: date) -> None:
    """400 `statement_period_invalid` unless start <= end and the period is at most a year long."""
    if end < start or (end - start).days >= MAX_PERIOD_DAYS:
        raise SettlementErrors.PERIOD_INVALID(fields={"end": [f"{start.isoformat()}.."]})


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's days in Ho Chi Minh City as a half-open interval of aware datetimes."""
    return (
        datetime.combine(start, time(0), tzinfo=LOCAL_TZ),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ),
    )


def merchant_statement(merchant: Merchant, *, start: date, end: date) -> Statement:
    """The merchant's statement for the days `start`..`end` (inclusive), in two queries."""
    check_period(start, end)
    since, until = period_bounds(start, end)
    entries = LedgerEntry.objects.filter(merchant=merchant, created_at__gte=since, created_at__lt=until)
    rows = (
        entries.values(
            "order_id", "order__code", "order__delivered_at", "order__payment_method", "order__commission_bps"
        )
        .annotate(
            **{name: Sum("amount_vnd", filter=Q(kind=kind), default=0) for name, kind in AMOUNT_KINDS.items()}
        )
        .order_by("order__delivered_at", "order_id")
    )
    lines = [
        StatementLine(
            order_id=row["order_id"],
            order_code=row["order__code"] or "",
            delivered_at=row["order__delivered_at"],
            payment_method=row["order__payment_method"] or "",
            commission_bps=row["order__commission_bps"],
            **{name: int(row[name]) for name in AMOUNT_KINDS},
        )
        for row in rows
    ]
    payable = LedgerAccount.MERCHANT_PAYABLE
    sides = entries.aggregate(
        credits=Sum("amount_vnd", filter=Q(credit=payable), default=0),
        debits=Sum("amount_vnd", filter=Q(debit=payable), default=0),
    )
    return Statement(
        merchant=merchant,
        start=start,
        end=end,
        lines=lines,
        ledger_net_vnd=int(sides["credits"]) - int(sides["debits"]),
    )


CSV_COLUMNS = [
    "order_code",
    "delivered_at",
    "payment_method",
    "commission_bps",
    *AMOUNT_KINDS,
    "net_vnd",
]


def _csv_row(line: StatementLine, *, label: str | None = None) -> list[object]:
    delivered = line.delivered_at.astimezone(LOCAL_TZ).isoformat() if line.delivered_at else ""
    head = [label if label is not None else line.order_code, delivered, line.payment_method]
    rate = "" if line.commission_bps is None else line.commission_bps
    return [*head, rate, *(getattr(line, name) for name in AMOUNT_KINDS), line.net_vnd]


def statement_csv(statement: Statement) -> str:
    """One line per order and a TOTAL line; amounts are integers in dong, times in Ho Chi Minh City."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(line) for line in statement.lines)
    writer.writerow(_csv_row(statement.totals, label="TOTAL"))
    return out.getvalue()


def statement_filename(statement: Statement) -> str:
    return (
        f"statement-{statement.merchant.slug}-{statement.start.isoformat()}-{statement.end.isoformat()}.csv"
    )
