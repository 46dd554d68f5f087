"""Demo orders of the demo customer (0900000002) in several states. Idempotent: each demo order is
placed with a fixed Idempotency-Key, and each step runs only if the order has not reached it yet."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from loship.errors import ApplicationError
from loship.idempotency.services import request_hash
from merchants.models import MenuItem, Merchant, Option, OptionGroup
from merchants.selectors import is_open_now
from orders import services
from orders.models import ActorRole, Order, OrderStatus, Promotion, PromotionKind, Rating
from orders.services.placement import Cart, CartLine
from users.models import User
from users.phone import normalize_phone

DEMO_CUSTOMER = "0900000002"
DEMO_DRIVER = "0900000003"
DEMO_PROMO = "LOSHIPDEMO"


def _line_for(item: MenuItem) -> CartLine:
    """One of the item, with the first available options of every group that needs a choice."""
    option_ids: list[int] = []
    for group in OptionGroup.objects.filter(item=item).order_by("id"):
        needed = max(group.min_select, 1 if group.is_required else 0)
        if needed:
            available = Option.objects.filter(group=group, is_available=True).order_by("id")[:needed]
            option_ids.extend(option.pk for option in available)
    return CartLine(item_id=item.pk, quantity=1, option_ids=tuple(option_ids))


def _demo_merchant() -> Merchant | None:
    for merchant in Merchant.objects.filter(is_active=True, is_busy=False).order_by("id"):
        if is_open_now(merchant) and MenuItem.objects.filter(merchant=merchant, is_available=True).exists():
            return merchant
    return None


def seed(log: Callable[[str], object]) -> None:
    now = timezone.now()
    Promotion.objects.get_or_create(
        code=DEMO_PROMO,
        defaults={
            "description": "Giảm 20% tối đa 30.000đ",
            "kind": PromotionKind.PERCENT,
            "value": 20,
            "max_discount_vnd": 30_000,
            "min_subtotal_vnd": 50_000,
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=365),
            "per_customer_limit": 5,
        },
    )
    customer = User.objects.filter(phone=normalize_phone(DEMO_CUSTOMER)).first()
    driver = User.objects.filter(phone=normalize_phone(DEMO_DRIVER)).first()
    merchant = _demo_merchant()
    if customer is None or merchant is None:
        log("demo orders skipped: no demo customer or no open merchant with a menu")
        return
    items = list(MenuItem.objects.filter(merchant=merchant, is_available=True).order_by("id")[:3])
    cart = Cart(
        merchant_id=merchant.pk,
        lines=tuple(_line_for(item) for item in items),
        delivery_lat=merchant.lat + Decimal("0.004000"),
        delivery_lng=merchant.lng + Decimal("0.003000"),
        delivery_address="20 Hai Bà Trưng, Quận 1, TP.HCM",
        payment_method="cash",
    )
    targets = {
        "demo-delivered": OrderStatus.DELIVERED,
        "demo-preparing": OrderStatus.PREPARING,
        "demo-cancelled": OrderStatus.CANCELLED,
        "demo-placed": OrderStatus.PLACED,
    }
    for key, target in targets.items():
        try:
            placement = services.place_order(
                customer=customer, cart=cart, idempotency_key=key, body_hash=request_hash({"demo": key})
            )
            order = _advance(placement.order, target, customer=customer, driver=driver)
        except ApplicationError as error:
            log(f"demo order {key} skipped: {error.code}")
            continue
        if placement.created:
            log(f"demo order {order.code} ({order.status}) created")


def _advance(order: Order, target: str, *, customer: User, driver: User | None) -> Order:
    if target == OrderStatus.CANCELLED and order.status == OrderStatus.PLACED:
        return services.cancel_order(order_id=order.pk, actor=customer, by=ActorRole.CUSTOMER, reason="đổi ý")
    if target in (OrderStatus.PREPARING, OrderStatus.DELIVERED) and order.status == OrderStatus.PLACED:
        order = services.accept_order(order_id=order.pk, actor=None, prep_minutes=15)
    if order.status == OrderStatus.ACCEPTED:
        order = services.mark_preparing(order_id=order.pk, actor=None)
    if target != OrderStatus.DELIVERED or driver is None:
        return order
    if order.status == OrderStatus.PREPARING:
        order = services.mark_ready(order_id=order.pk, actor=None)
    if order.driver_id is None:
        order = services.assign_driver(order_id=order.pk, driver=driver, actor=driver)
    if order.status == OrderStatus.READY_FOR_PICKUP:
        order = services.mark_picked_up(order_id=order.pk, driver=driver)
    if order.status == OrderStatus.PICKED_UP:
        order = services.mark_delivered(order_id=order.pk, driver=driver)
    if not Rating.objects.filter(order=order).exists():
        services.rate_order(
            order=order, customer=customer, merchant_stars=5, merchant_text="Ngon, giao nhanh!",
            driver_stars=5, driver_tags=["thân thiện"],
        )  # fmt: skip
    return order
