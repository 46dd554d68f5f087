"""The merchant statement page in the admin, and its CSV export.

Merchant staff see the statements of the merchants they work for (another merchant is a 404, as on the
merchant dashboard); ops open any merchant. The figures come from `orders.statements`, a read of the
ledger; amounts are formatted here for people (1.234.567 ₫) and left as whole dong in the CSV.
"""

from datetime import date
from typing import Any

from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from loship.errors import ApplicationError
from ops.views import chosen_merchant
from orders.models import PaymentMethod
from orders.statements import (
    AMOUNT_KINDS,
    LOCAL_TZ,
    StatementLine,
    current_month,
    merchant_statement,
    statement_csv,
    statement_filename,
)

#: The amount columns of the page, in the order of `AMOUNT_KINDS`, then the net payout.
COLUMN_TITLES = {
    "gross_vnd": _("Gross sales"),
    "commission_vnd": _("Commission"),
    "merchant_promo_vnd": _("Promotions (merchant-funded)"),
    "platform_promo_vnd": _("Promotions (platform-funded)"),
    "refunds_vnd": _("Refunds"),
    "net_vnd": _("Net payout"),
}


def format_vnd(amount: int) -> str:
    """1234567 -> "1.234.567 ₫", the way Vietnamese readers write dong."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,} ₫".replace(",", ".")


def _amounts(line: StatementLine) -> list[str]:
    return [format_vnd(getattr(line, name)) for name in [*AMOUNT_KINDS, "net_vnd"]]


def _row(line: StatementLine) -> dict[str, Any]:
    delivered = line.delivered_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if line.delivered_at else ""
    rate = "" if line.commission_bps is None else f"{line.commission_bps / 100:g}%"
    method = PaymentMethod(line.payment_method).label if line.payment_method else ""
    return {
        "order_id": line.order_id,
        "code": line.order_code,
        "delivered": delivered,
        "method": method,
        "rate": rate,
        "amounts": _amounts(line),
    }


def _parse_day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


def merchant_statement_page(request: HttpRequest) -> HttpResponse:
    """`?merchant=<id>&start=YYYY-MM-DD&end=YYYY-MM-DD` (this month by default); `&format=csv` exports."""
    _user, merchant, choices = chosen_merchant(request)
    if merchant is None:
        raise Http404
    month = current_month()
    start = _parse_day(request.GET.get("start", ""), month[0])
    end = _parse_day(request.GET.get("end", ""), month[1])
    error = ""
    try:
        statement = merchant_statement(merchant, start=start, end=end)
    except ApplicationError as refusal:
        error = refusal.message
        start, end = month
        statement = merchant_statement(merchant, start=start, end=end)
    if request.GET.get("format") == "csv" and not error:
        response = HttpResponse(statement_csv(statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{statement_filename(statement)}"'
        return response
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Merchant statement"),
        "merchant": merchant,
        "merchant_choices": choices,
        "start": start,
        "end": end,
        "error": error,
        "statement": statement,
        "columns": list(COLUMN_TITLES.values()),
        "rows": [_row(line) for line in statement.lines],
        "totals": _amounts(statement.totals),
        "ledger_net": format_vnd(statement.ledger_net_vnd),
        "texts": {
            "merchant": _("Merchant"),
            "from": _("From"),
            "to": _("To"),
            "show": _("Show"),
            "export": _("Export CSV"),
            "order": _("Order"),
            "delivered": _("Delivered"),
            "payment": _("Payment"),
            "rate": _("Commission rate"),
            "total": _("Total"),
            "empty": _("No order in this period."),
            "ledger": _("Ledger balance for the period"),
            "reconciled": _("matches the net payout"),
            "not_reconciled": _("does not match the net payout: tell operations"),
            "note": _(
                "Times in Asia/Ho_Chi_Minh. An order belongs to the day its delivery was booked; a "
                "refund after delivery to the day it was made. Commission is on gross sales at the rate "
                "in force at each delivery. Platform-funded promotions are paid by the platform and not "
                "deducted. Tips belong to the drivers and are not part of this statement."
            ),
        },
    }
    return render(request, "ops/merchant_statement.html", context)
