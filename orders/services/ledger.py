"""Writing the one money ledger (`LedgerEntry`) and reading balances from it.

Every movement is one entry debiting one account and crediting another by the same amount, so the
whole ledger always balances; `(kind, reference)` is unique, so booking twice is refused by the
database rather than by luck.
"""

from datetime import datetime

from django.db.models import Q, Sum
from django.utils import timezone

from orders.models import LedgerEntry, Order


def book(
    *,
    kind: str,
    amount_vnd: int,
    debit: str,
    credit: str,
    reference: str,
    order: Order | None = None,
    driver_id: int | None = None,
    merchant_id: int | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Record one movement of `amount_vnd` dong (now, or `at`), in the caller's transaction."""
    return LedgerEntry.objects.create(
        created_at=at or timezone.now(),
        order=order,
        driver_id=driver_id,
        merchant_id=merchant_id,
        kind=kind,
        amount_vnd=amount_vnd,
        debit=debit,
        credit=credit,
        reference=reference,
    )


def account_balance(account: str, *, driver_id: int | None = None) -> int:
    """Debits minus credits of `account` (of one driver when given), to the dong."""
    entries = (
        LedgerEntry.objects.all() if driver_id is None else LedgerEntry.objects.filter(driver_id=driver_id)
    )
    totals = entries.aggregate(
        debits=Sum("amount_vnd", filter=Q(debit=account), default=0),
        credits=Sum("amount_vnd", filter=Q(credit=account), default=0),
    )
    return int(totals["debits"]) - int(totals["credits"])
