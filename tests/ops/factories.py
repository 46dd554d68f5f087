"""Orders with chosen timestamps for the dashboard figures (rows as the services leave them)."""

from datetime import datetime
from typing import Any

from merchants.models import Merchant
from orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from tests.factories import UserFactory
from tests.orders.factories import NEAR_LAT, NEAR_LNG

_codes = iter(range(1, 1_000_000))


def make_order(merchant: Merchant, *, total_vnd: int = 100_000, created_at: datetime, **fields: Any) -> Order:
    """An order of `total_vnd` (all of it subtotal), then its timestamps set as given."""
    customer = fields.pop("customer", None) or UserFactory()
    order = Order.objects.create(
        code=f"T{next(_codes):07d}",
        customer=customer,
        merchant=merchant,
        status=fields.pop("status", OrderStatus.PLACED),
        delivery_address="20 Hai Bà Trưng, Quận 1",
        delivery_lat=NEAR_LAT,
        delivery_lng=NEAR_LNG,
        customer_phone=customer.phone,
        distance_m=1100,
        subtotal_vnd=total_vnd,
        delivery_fee_vnd=0,
        total_vnd=total_vnd,
        payment_method=PaymentMethod.CASH,
        payment_status=fields.pop("payment_status", PaymentStatus.COD_PENDING),
        **{k: v for k, v in fields.items() if k not in {"updated_at"}},
    )
    # auto_now(_add) fields are written by the database update, which does not touch them.
    Order.objects.filter(pk=order.pk).update(
        created_at=created_at, updated_at=fields.get("updated_at", created_at)
    )
    order.refresh_from_db()
    return order
