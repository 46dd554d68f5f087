"""Merchant statements reconcile with the ledger to the dong.

March 2026 in Ho Chi Minh City, one merchant, orders placed through the API and taken through the
real services (payments through the local sandbox provider), then their ledger entries dated into the
month. Hand-computed figures (the default cart is 85 000 of food; the tea cart 50 000):

    order                        rate   gross   commission  merchant promo  platform promo  refunds
    A cash, 00:00:30 on Mar 1    20%    85 000  17 000      -               -               -
    B e-wallet, platform promo   20%    85 000  17 000      -               10 000          -
      (ops lower the rate to 15%)
    C cash, merchant promo 20%   15%    85 000  12 750      17 000          -               -
    D e-wallet, tip 20 000,      15%    85 000  12 750      -               -               85 000
      refunded in full after delivery
    E cash tea, partial refund   15%    50 000   7 500      -               -               20 000
    F (delivered Feb 28) refunded on Mar 5     -            -               -                5 000
    --------------------------------------------------------------------------------------------
                                        390 000 67 000      17 000          10 000          110 000
    net payout = 390 000 - 67 000 - 17 000 - 110 000 = 196 000

Left out: a paid e-wallet order cancelled before delivery (refunded in full through the gateway: never
a sale), the tip (the driver's), an order delivered at 23:59:59 on Feb 28 and one at 00:00 on Apr 1.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q, Sum
from django.test import Client

from loship.errors import ApplicationError
from orders import services
from orders.errors import SettlementErrors
from orders.models import (
    ActorRole,
    LedgerAccount,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Tip,
    TipStatus,
)
from orders.statements import merchant_statement, statement_csv
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, make_menu, make_promotion, make_staff
from tests.orders.sandbox_provider import SandboxProvider
from tests.orders.test_payments import post_webhook
from tests.orders.test_tips import deliver
from users.models import Role, User

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def at(month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=HCM)


def dated(order: Order, when: datetime, *, kinds: Q | None = None) -> None:
    """Move the order's ledger entries (those of `kinds`, or all) and its delivery to `when`."""
    entries = LedgerEntry.objects.filter(order=order)
    entries.filter(kinds or Q()).update(created_at=when)
    if kinds is None:
        Order.objects.filter(pk=order.pk).update(delivered_at=when)


def pay(sandbox: SandboxProvider, order: Order) -> None:
    payment = Payment.objects.get(order=order)
    assert post_webhook(*sandbox.webhook(payment.provider_ref)).status_code == 200


def placed(place: Callable[..., Any], **body: Any) -> Order:
    response = place(**body)
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def merchant_payable_in(merchant_id: int, since: datetime, until: datetime) -> int:
    """Credits minus debits of the merchant's payable account in [since, until), straight from the
    ledger (written here, not by the code under test)."""
    rows = LedgerEntry.objects.filter(merchant_id=merchant_id, created_at__gte=since, created_at__lt=until)
    payable = LedgerAccount.MERCHANT_PAYABLE
    credits = rows.filter(credit=payable).aggregate(s=Sum("amount_vnd", default=0))["s"]
    debits = rows.filter(debit=payable).aggregate(s=Sum("amount_vnd", default=0))["s"]
    return int(credits) - int(debits)


@pytest.fixture
def ops() -> User:
    return UserFactory(roles=[Role.OPS], is_staff=True)


@pytest.fixture
def march(place: Callable[..., Any], sandbox: SandboxProvider, menu: Menu, ops: User) -> dict[str, Order]:
    merchant = menu.merchant
    merchant.commission_bps = 2000
    merchant.save(update_fields=["commission_bps"])
    tea_only = {"lines": [{"item_id": menu.tea.pk, "quantity": 5}]}
    orders: dict[str, Order] = {}

    orders["before"] = placed(place)
    deliver(orders["before"])
    dated(orders["before"], at(2, 28, 23, 59, 59))

    # A complaint about February's last order, settled on Mar 5: March's refund, February's sale.
    services.refund_delivered_order(order_id=orders["before"].pk, amount_vnd=5_000, actor=ops, reason="late")
    dated(orders["before"], at(3, 5), kinds=Q(kind=LedgerKind.MERCHANT_REFUND))

    orders["A"] = placed(place)
    deliver(orders["A"])
    dated(orders["A"], at(3, 1, 0, 0, 30))

    platform_promo = make_promotion(kind="fixed", value=10_000, max_discount_vnd=None)
    orders["B"] = placed(place, payment_method="ewallet", promo_code=platform_promo.code)
    pay(sandbox, orders["B"])
    deliver(orders["B"])
    dated(orders["B"], at(3, 10))

    # Ops lower the rate mid-month: orders delivered from now on pay 15%.
    merchant.commission_bps = 1500
    merchant.save(update_fields=["commission_bps"])

    merchant_promo = make_promotion(merchant=merchant, funded_by="merchant", value=20)
    orders["C"] = placed(place, promo_code=merchant_promo.code)
    deliver(orders["C"])
    dated(orders["C"], at(3, 20))

    orders["cancelled"] = placed(place, payment_method="ewallet")
    pay(sandbox, orders["cancelled"])
    services.cancel_order(order_id=orders["cancelled"].pk, actor=ops, by=ActorRole.OPS, reason="test")
    services.refund_payment(payment_id=Payment.objects.get(order=orders["cancelled"]).pk)
    dated(orders["cancelled"], at(3, 15))

    orders["D"] = placed(place, payment_method="ewallet", tip_vnd=20_000)
    pay(sandbox, orders["D"])
    tip = Tip.objects.get(order=orders["D"])
    assert post_webhook(*sandbox.webhook(tip.provider_ref)).status_code == 200
    deliver(orders["D"])
    dated(orders["D"], at(3, 21))
    services.refund_delivered_order(order_id=orders["D"].pk, amount_vnd=85_000, actor=ops, reason="spilt")
    dated(orders["D"], at(3, 22), kinds=Q(kind=LedgerKind.MERCHANT_REFUND))

    orders["E"] = placed(place, **tea_only)
    deliver(orders["E"])
    dated(orders["E"], at(3, 25))
    services.refund_delivered_order(order_id=orders["E"].pk, amount_vnd=20_000, actor=ops, reason="missing")
    dated(orders["E"], at(3, 26), kinds=Q(kind=LedgerKind.MERCHANT_REFUND))

    orders["after"] = placed(place, payment_method="ewallet")
    pay(sandbox, orders["after"])
    deliver(orders["after"])
    dated(orders["after"], at(4, 1, 0, 0, 0))
    return orders


def test_a_months_statement_reconciles_with_the_ledger_to_the_dong(
    march: dict[str, Order], menu: Menu
) -> None:
    statement = merchant_statement(menu.merchant, start=MARCH[0], end=MARCH[1])

    totals = statement.totals
    assert totals.gross_vnd == 390_000
    assert totals.commission_vnd == 67_000
    assert totals.merchant_promo_vnd == 17_000
    assert totals.platform_promo_vnd == 10_000
    assert totals.refunds_vnd == 110_000
    assert totals.net_vnd == 390_000 - 67_000 - 17_000 - 110_000 == 196_000
    assert statement.ledger_net_vnd == 196_000
    assert merchant_payable_in(menu.merchant.pk, at(3, 1, 0), at(4, 1, 0)) == 196_000
    assert statement.reconciled


def test_each_order_is_on_its_own_line_with_the_rate_in_force_at_its_delivery(
    march: dict[str, Order], menu: Menu
) -> None:
    statement = merchant_statement(menu.merchant, start=MARCH[0], end=MARCH[1])

    lines = {line.order_code: line for line in statement.lines}
    assert [line.order_code for line in statement.lines] == [march[k].code for k in ("before", *"ABCDE")]
    february = lines[march["before"].code]
    assert (february.gross_vnd, february.commission_vnd, february.refunds_vnd) == (0, 0, 5_000)
    assert {code: line.commission_bps for code, line in lines.items()} == {
        march["before"].code: 2000,
        march["A"].code: 2000,
        march["B"].code: 2000,
        march["C"].code: 1500,
        march["D"].code: 1500,
        march["E"].code: 1500,
    }
    d, e = lines[march["D"].code], lines[march["E"].code]
    assert (d.gross_vnd, d.commission_vnd, d.refunds_vnd, d.net_vnd) == (85_000, 12_750, 85_000, -12_750)
    assert (e.gross_vnd, e.commission_vnd, e.refunds_vnd, e.net_vnd) == (50_000, 7_500, 20_000, 22_500)
    b = lines[march["B"].code]
    assert (b.platform_promo_vnd, b.net_vnd) == (10_000, 68_000)


def test_the_tip_and_the_cancelled_order_stay_off_the_statement(march: dict[str, Order], menu: Menu) -> None:
    cancelled = Order.objects.get(pk=march["cancelled"].pk)
    assert (cancelled.status, cancelled.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)
    assert not LedgerEntry.objects.filter(order=cancelled, merchant__isnull=False).exists()
    assert Tip.objects.get(order=march["D"]).status == TipStatus.PAID_OUT
    tip_kinds = (LedgerKind.TIP, LedgerKind.TIP_PAYOUT)
    assert not LedgerEntry.objects.filter(kind__in=tip_kinds, merchant__isnull=False).exists()
    codes = {
        line.order_code for line in merchant_statement(menu.merchant, start=MARCH[0], end=MARCH[1]).lines
    }
    assert cancelled.code not in codes


def test_the_days_either_side_hold_the_orders_just_outside(march: dict[str, Order], menu: Menu) -> None:
    february = merchant_statement(menu.merchant, start=date(2026, 2, 1), end=date(2026, 2, 28))
    april = merchant_statement(menu.merchant, start=date(2026, 4, 1), end=date(2026, 4, 30))

    assert [line.order_code for line in february.lines] == [march["before"].code]
    assert [line.order_code for line in april.lines] == [march["after"].code]
    assert (february.totals.gross_vnd, february.totals.commission_vnd) == (85_000, 17_000)
    assert february.totals.refunds_vnd == 0  # its refund was booked in March
    assert (april.totals.gross_vnd, april.totals.commission_vnd) == (85_000, 12_750)
    assert february.reconciled and april.reconciled


def test_a_delivered_orders_receivable_is_shared_out_to_the_dong(march: dict[str, Order]) -> None:
    """At delivery the customer's money leaves `orders_receivable` entirely (to the merchant, the
    commission, the promotion and the fees); a refund after delivery is owed to the customer."""
    for key in ("A", "B", "C", "before", "after"):
        entries = LedgerEntry.objects.filter(order=march[key])
        receivable = LedgerAccount.ORDERS_RECEIVABLE
        debits = entries.filter(debit=receivable).aggregate(s=Sum("amount_vnd", default=0))["s"]
        credits = entries.filter(credit=receivable).aggregate(s=Sum("amount_vnd", default=0))["s"]
        assert debits == credits, key


def test_the_csv_has_one_line_per_order_and_the_totals_in_whole_dong(
    march: dict[str, Order], menu: Menu
) -> None:
    text = statement_csv(merchant_statement(menu.merchant, start=MARCH[0], end=MARCH[1]))

    rows = [line.split(",") for line in text.strip().split("\n")]
    assert rows[0] == [
        "order_code",
        "delivered_at",
        "payment_method",
        "commission_bps",
        "gross_vnd",
        "commission_vnd",
        "merchant_promo_vnd",
        "platform_promo_vnd",
        "refunds_vnd",
        "net_vnd",
    ]
    assert [row[0] for row in rows[1:]] == [*(march[k].code for k in ("before", *"ABCDE")), "TOTAL"]
    a_line = [march["A"].code, "2026-03-01T00:00:30+07:00", "cash", "2000"]
    assert rows[2] == [*a_line, "85000", "17000", "0", "0", "0", "68000"]
    assert rows[1][-2:] == ["5000", "-5000"]
    assert rows[-1] == ["TOTAL", "", "", "", "390000", "67000", "17000", "10000", "110000", "196000"]


def test_a_refund_beyond_what_the_merchant_was_credited_is_refused(
    place: Callable[..., Any], ops: User
) -> None:
    order = placed(place)
    deliver(order)
    services.refund_delivered_order(order_id=order.pk, amount_vnd=80_000, actor=ops, reason="")

    with pytest.raises(ApplicationError) as refused:
        services.refund_delivered_order(order_id=order.pk, amount_vnd=5_001, actor=ops, reason="")

    assert (refused.value.code, refused.value.status) == ("refund_exceeds_refundable", 409)
    assert refused.value.extra == {"refundable_vnd": 5_000}
    assert LedgerEntry.objects.filter(order=order, kind=LedgerKind.MERCHANT_REFUND).count() == 1


def test_only_ops_refund_and_only_a_delivered_order(placed_order: Order, menu: Menu, ops: User) -> None:
    with pytest.raises(ApplicationError) as by_staff:
        services.refund_delivered_order(
            order_id=placed_order.pk, amount_vnd=1_000, actor=make_staff(menu.merchant), reason=""
        )
    with pytest.raises(ApplicationError) as undelivered:
        services.refund_delivered_order(order_id=placed_order.pk, amount_vnd=1_000, actor=ops, reason="")

    assert by_staff.value.code == SettlementErrors.OPS_ONLY.code
    assert undelivered.value.code == SettlementErrors.NOT_DELIVERED.code


# --- The merchant API and the admin page -------------------------------------------------------


@pytest.fixture
def other_merchant_staff() -> User:
    return make_staff(make_menu().merchant)


def test_staff_read_their_merchants_statement_through_the_api(march: dict[str, Order], menu: Menu) -> None:
    client = authenticated_client(make_staff(menu.merchant))

    response = client.get(
        f"/api/v1/merchant/merchants/{menu.merchant.pk}/statement",
        {"start": "2026-03-01", "end": "2026-03-31"},
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["totals"] == {
        "gross_vnd": 390_000,
        "commission_vnd": 67_000,
        "merchant_promo_vnd": 17_000,
        "platform_promo_vnd": 10_000,
        "refunds_vnd": 110_000,
        "net_vnd": 196_000,
    }
    assert body["ledger_net_vnd"] == 196_000 and body["reconciled"] is True
    assert [line["order_code"] for line in body["lines"]] == [march[k].code for k in ("before", *"ABCDE")]


def test_staff_of_another_merchant_get_not_found(menu: Menu, other_merchant_staff: User) -> None:
    client = authenticated_client(other_merchant_staff)
    api = client.get(f"/api/v1/merchant/merchants/{menu.merchant.pk}/statement")
    browser = Client()
    browser.force_login(other_merchant_staff)
    page = browser.get("/admin/ops/merchant/statement/", {"merchant": menu.merchant.pk})
    csv_file = browser.get("/admin/ops/merchant/statement/", {"merchant": menu.merchant.pk, "format": "csv"})

    assert (api.status_code, api.json()["error"]["code"]) == (404, "merchant_not_found")
    assert page.status_code == 404
    assert csv_file.status_code == 404


def test_a_customer_cannot_read_a_statement(menu: Menu, customer_client: Any) -> None:
    response = customer_client.get(f"/api/v1/merchant/merchants/{menu.merchant.pk}/statement")
    assert response.status_code == 403


def test_an_inverted_or_too_long_period_is_refused(menu: Menu) -> None:
    client = authenticated_client(make_staff(menu.merchant))
    url = f"/api/v1/merchant/merchants/{menu.merchant.pk}/statement"

    inverted = client.get(url, {"start": "2026-03-31", "end": "2026-03-01"})
    too_long = client.get(url, {"start": "2025-01-01", "end": "2026-03-01"})

    assert (inverted.status_code, inverted.json()["error"]["code"]) == (400, "statement_period_invalid")
    assert too_long.status_code == 400


def test_the_admin_page_and_its_csv_for_staff_and_ops(march: dict[str, Order], menu: Menu, ops: User) -> None:
    staff = Client()
    staff.force_login(make_staff(menu.merchant))
    query = {"start": "2026-03-01", "end": "2026-03-31"}

    page = staff.get("/admin/ops/merchant/statement/", query)
    exported = staff.get("/admin/ops/merchant/statement/", {**query, "format": "csv"})
    as_ops = Client()
    as_ops.force_login(ops)
    ops_page = as_ops.get("/admin/ops/merchant/statement/", {**query, "merchant": menu.merchant.pk})

    assert page.status_code == 200
    html = page.content.decode()
    assert "196.000 ₫" in html and "390.000 ₫" in html
    assert exported["Content-Type"].startswith("text/csv")
    assert exported["Content-Disposition"].endswith('-2026-03-01-2026-03-31.csv"')
    assert (
        exported.content.decode().strip().split("\n")[-1] == "TOTAL,,,,390000,67000,17000,10000,110000,196000"
    )
    assert ops_page.status_code == 200 and "196.000 ₫" in ops_page.content.decode()


def test_only_ops_may_change_a_merchants_commission_rate(menu: Menu, ops: User) -> None:
    staff = Client()
    staff.force_login(make_staff(menu.merchant))
    as_ops = Client()
    as_ops.force_login(ops)
    url = f"/admin/merchants/merchant/{menu.merchant.pk}/change/"

    staff_form = staff.get(url).content.decode()
    ops_form = as_ops.get(url).content.decode()

    assert 'name="commission_bps"' not in staff_form
    assert 'name="commission_bps"' in ops_form


def test_ops_refund_after_delivery_through_the_api_once_per_key(
    place: Callable[..., Any], ops: User, menu: Menu
) -> None:
    order = placed(place)
    deliver(order)
    url = f"/api/v1/ops/orders/{order.pk}/refund-after-delivery"
    client = authenticated_client(ops)
    body = {"amount_vnd": 15_000, "reason": "thiếu trứng"}

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
    keyless = client.post(url, body, format="json")
    by_staff = authenticated_client(make_staff(menu.merchant)).post(
        url, body, format="json", HTTP_IDEMPOTENCY_KEY="refund-2"
    )

    expected = {"order_id": order.pk, "refunded_vnd": 15_000, "refundable_vnd": 70_000}
    assert (first.status_code, first.json()) == (201, expected)
    assert (again.status_code, again.json()) == (200, expected)
    assert keyless.status_code == 400
    assert by_staff.status_code == 403
    assert LedgerEntry.objects.filter(order=order, kind=LedgerKind.MERCHANT_REFUND).count() == 1
    event = order.events.order_by("-version").first()
    assert event is not None and (event.actor_id, event.actor_role) == (ops.pk, "ops")


def test_a_deliverys_entries_carry_its_instant_so_no_order_straddles_two_periods(
    place: Callable[..., Any],
) -> None:
    order = placed(place)
    deliver(order)
    order.refresh_from_db()

    booked = LedgerEntry.objects.filter(order=order, merchant__isnull=False)
    assert set(booked.values_list("kind", flat=True)) == {"sale", "commission", "order_fees"}
    assert set(booked.values_list("created_at", flat=True)) == {order.delivered_at}
