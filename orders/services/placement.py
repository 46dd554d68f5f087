"""Quoting a cart and placing it as an order, exactly once per `Idempotency-Key` (the keys and their
claim are `loship.idempotency`'s; placement runs the claim inside its one read statement).

The server prices everything from the menu as it is now; the client sends only what it wants (items,
options, quantities, notes, where, which promo, how to pay). Placement re-validates and re-prices
inside one transaction, and the order lines keep a snapshot of names, prices and options.
"""

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from loship.idempotency.services import RECORD_RESULT_SQL, earlier_use
from merchants.geo import delivery_distance
from merchants.models import Merchant
from orders.errors import CartErrors, PromoErrors
from orders.gateways import configured_provider
from orders.models import (
    ActorRole,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Promotion,
)
from orders.pricing import PricingConfig, Totals, estimated_delivery_at, totals
from orders.services.cart_rows import CartContext, Claim, OptionRow, load_cart_context, write_batch
from orders.services.promises import promised_before_driver
from orders.services.promotions import (
    check_promotion,
    count_use_sql,
    is_usage_limit_violation,
    lock_for_customer_limit,
    redemption_for,
)
from orders.services.scheduling import check_slot, plan_slot, slot_days
from orders.services.transitions import merchant_accept_deadline, new_order_event, pending_announcement
from users.models import User

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class CartLine:
    item_id: int
    quantity: int
    option_ids: tuple[int, ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class Cart:
    merchant_id: int
    lines: tuple[CartLine, ...]
    delivery_lat: Decimal
    delivery_lng: Decimal
    delivery_address: str = ""
    delivery_note: str = ""
    note: str = ""
    promo_code: str = ""
    payment_method: str = PaymentMethod.CASH
    #: The delivery slot (a quarter hour, up to two days ahead); None delivers as soon as possible.
    scheduled_for: datetime | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    item_id: int
    name: str
    base_price_vnd: int
    unit_price_vnd: int
    quantity: int
    line_total_vnd: int
    options: list[dict[str, Any]]
    note: str


@dataclass(frozen=True, slots=True)
class Quote:
    merchant: Merchant
    lines: list[PricedLine]
    totals: Totals
    distance_m: int
    eta: datetime
    #: The delivery time promised to the customer (`orders.promise`).
    promised_at: datetime
    promotion: Promotion | None
    cart: Cart
    warnings: list[str] = field(default_factory=list)
    #: When a scheduled order goes to the merchant (None for an order placed for now).
    release_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    order: Order
    created: bool
    #: The order's lines and history as just written, so the caller can render a new order without
    #: reading it back; empty when it must be read back (placed earlier, or its payment opened since).
    lines: list[OrderLine] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)


def _option_ids(cart_lines: Sequence[CartLine]) -> list[int]:
    return sorted({option_id for line in cart_lines for option_id in line.option_ids})


def _check_merchant(context: CartContext, *, scheduled: bool) -> Merchant:
    """The merchant, listed and (for an order placed for now) open and not busy: a scheduled order's
    slot is checked against the hours instead (`scheduling.check_slot`)."""
    merchant = context.merchant
    if merchant is None:
        raise CartErrors.MERCHANT_NOT_FOUND(
            fields={"merchant_id": [CartErrors.MERCHANT_NOT_FOUND.text.render()]}
        )
    if scheduled:
        return merchant
    if not context.is_open:
        raise CartErrors.MERCHANT_CLOSED(extra={"merchant_id": merchant.pk})
    if merchant.is_busy:
        raise CartErrors.MERCHANT_BUSY(extra={"merchant_id": merchant.pk})
    return merchant


def _price_lines(context: CartContext, cart_lines: Sequence[CartLine]) -> list[PricedLine]:
    """Check every line against the live menu and price it; refusals name the line."""
    if not cart_lines:
        raise CartErrors.EMPTY_CART(fields={"lines": [CartErrors.EMPTY_CART.text.render()]})
    priced = []
    for index, line in enumerate(cart_lines):
        item = context.items.get(line.item_id)
        if item is None or not item.is_available:
            name = item.name if item else str(line.item_id)
            raise CartErrors.ITEM_UNAVAILABLE(extra={"line": index, "item_id": line.item_id}, name=name)
        chosen: dict[int, list[OptionRow]] = defaultdict(list)
        for option_id in dict.fromkeys(line.option_ids):
            option = context.options.get(option_id)
            group = context.groups.get(option.group_id) if option else None
            if option is None or group is None or group.item_id != item.id:
                raise CartErrors.OPTION_UNAVAILABLE(
                    extra={"line": index, "option_id": option_id}, name=str(option_id)
                )
            if not option.is_available:
                raise CartErrors.OPTION_UNAVAILABLE(
                    extra={"line": index, "option_id": option_id}, name=option.name
                )
            chosen[option.group_id].append(option)
        for group in item.groups:
            count = len(chosen[group.id])
            extra = {"line": index, "item_id": item.id, "group_id": group.id}
            if count == 0 and (group.is_required or group.min_select > 0):
                raise CartErrors.OPTION_REQUIRED(extra=extra, group=group.name, item=item.name)
            if count < group.min_select:
                raise CartErrors.TOO_FEW_OPTIONS(extra=extra, group=group.name, min=group.min_select)
            if group.max_select and count > group.max_select:
                raise CartErrors.TOO_MANY_OPTIONS(extra=extra, group=group.name, max=group.max_select)
        # The snapshot lists the chosen options in menu order (group by group).
        picked = [(group, option) for group in item.groups for option in chosen[group.id]]
        options: list[dict[str, Any]] = [
            {
                "option_id": option.id,
                "group_id": group.id,
                "group": group.name,
                "name": option.name,
                "price_delta_vnd": option.price_delta_vnd,
            }
            for group, option in picked
        ]
        unit_price = item.price_vnd + sum(option.price_delta_vnd for _, option in picked)
        priced.append(
            PricedLine(
                item_id=item.id,
                name=item.name,
                base_price_vnd=item.price_vnd,
                unit_price_vnd=unit_price,
                quantity=line.quantity,
                line_total_vnd=unit_price * line.quantity,
                options=options,
                note=line.note,
            )
        )
    return priced


def _price(*, customer: User, cart: Cart, context: CartContext, now: datetime) -> tuple[Quote, int]:
    """The quote of a cart against a loaded context, and the discount of its promo code (0 if none)."""
    merchant = _check_merchant(context, scheduled=cart.scheduled_for is not None)
    distance = delivery_distance(merchant, lat=cart.delivery_lat, lng=cart.delivery_lng)
    if distance.straight_m > merchant.delivery_radius_m:
        raise CartErrors.OUTSIDE_DELIVERY_RADIUS(
            extra={"distance_m": distance.straight_m, "delivery_radius_m": merchant.delivery_radius_m}
        )
    config = PricingConfig.from_settings()
    plan = None
    if cart.scheduled_for is not None:
        plan = plan_slot(
            slot=cart.scheduled_for,
            prep_minutes=merchant.prep_minutes,
            distance_m=distance.road_m,
            config=config,
        )
        check_slot(plan, now=now, hours=context.hours, closed_dates=context.closed_dates)
    lines = _price_lines(context, cart.lines)
    subtotal = sum(line.line_total_vnd for line in lines)
    promotion = None
    discount = 0
    if cart.promo_code:
        promotion = context.promotion
        if promotion is None:
            raise PromoErrors.INVALID(fields={"promo_code": [PromoErrors.INVALID.text.render()]})
        discount = check_promotion(
            promotion, customer=customer, merchant_id=merchant.pk, subtotal_vnd=subtotal, now=now
        )
    priced = totals(
        subtotal_vnd=subtotal,
        distance_m=distance.road_m,
        min_order_vnd=merchant.min_order_vnd,
        discount_vnd=discount,
        config=config,
    )
    eta = (
        plan.slot
        if plan
        else estimated_delivery_at(
            now=now, prep_minutes=merchant.prep_minutes, distance_m=distance.road_m, config=config
        )
    )
    promised_at = (
        plan.slot  # a scheduled order is promised its slot until the merchant accepts it
        if plan
        else promised_before_driver(
            merchant=merchant,
            distance_m=distance.road_m,
            prep_minutes=merchant.prep_minutes,
            merchant_queue=context.merchant_queue,
            now=now,
        )
    )
    quote = Quote(
        merchant=merchant,
        lines=lines,
        totals=priced,
        distance_m=distance.road_m,
        eta=eta,
        promised_at=promised_at,
        promotion=promotion,
        cart=cart,
        release_at=plan.release_at if plan else None,
    )
    return quote, discount


def quote_cart(*, customer: User, cart: Cart, now: datetime | None = None) -> Quote:
    """Validate the cart against the merchant and menu as they are now, and price it (writes nothing)."""
    now = now or timezone.now()
    context = load_cart_context(
        merchant_id=cart.merchant_id,
        item_ids=[line.item_id for line in cart.lines],
        option_ids=_option_ids(cart.lines),
        promo_code=cart.promo_code,
        now=now,
        also_dates=_slot_days(cart),
    )
    quote, _ = _price(customer=customer, cart=cart, context=context, now=now)
    return quote


def _slot_days(cart: Cart) -> list[date]:
    return slot_days(cart.scheduled_for) if cart.scheduled_for is not None else []


def _new_code() -> str:
    return "LS" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def place_order(*, customer: User, cart: Cart, idempotency_key: str, body_hash: str) -> Placement:
    """Place the cart as an order once per (customer, key): the same key and body return the first
    order; the same key with another body is `idempotency_key_reused` (422).

    Re-validates and re-prices on the server inside one transaction. Concurrent requests with one key
    serialize on the unique (customer, key) row: the losers wait for the winner's commit and then
    return its order. A promotion's global cap is enforced by its guarded counter in the write batch,
    a per-customer limit under the promotion's row lock taken before counting, so both hold under
    concurrency. Two round trips inside the transaction: claim-and-read, then the write batch.
    """
    now = timezone.now()
    with transaction.atomic():
        context = load_cart_context(
            merchant_id=cart.merchant_id,
            item_ids=[line.item_id for line in cart.lines],
            option_ids=_option_ids(cart.lines),
            promo_code=cart.promo_code,
            now=now,
            claim_for=(customer.pk, idempotency_key, body_hash, len(cart.lines)),
            also_dates=_slot_days(cart),
        )
        claim = context.claim
        assert claim is not None
        key_id = claim.key_id
        if key_id is None:
            used = earlier_use(user_id=customer.pk, key=idempotency_key, request_hash=body_hash)
            if used.result_id is not None:
                return Placement(order=Order.objects.get(pk=used.result_id), created=False)
            key_id = used.pk
        if cart.promo_code and context.promotion is not None:
            context = replace(context, promotion=lock_for_customer_limit(context.promotion))
        quote, discount = _price(customer=customer, cart=cart, context=context, now=now)
        return _create_order(customer=customer, quote=quote, claim=claim, key_id=key_id, now=now)


def _create_order(*, customer: User, quote: Quote, claim: Claim, key_id: int, now: datetime) -> Placement:
    cart, priced, promotion = quote.cart, quote.totals, quote.promotion
    is_cash = cart.payment_method == PaymentMethod.CASH
    scheduled = cart.scheduled_for is not None
    order = Order(
        id=claim.order_id,
        code=_new_code(),
        customer=customer,
        merchant=quote.merchant,
        delivery_address=cart.delivery_address,
        delivery_lat=cart.delivery_lat,
        delivery_lng=cart.delivery_lng,
        delivery_note=cart.delivery_note,
        customer_phone=customer.phone,
        distance_m=quote.distance_m,
        note=cart.note,
        subtotal_vnd=priced.subtotal_vnd,
        delivery_fee_vnd=priced.delivery_fee_vnd,
        small_order_fee_vnd=priced.small_order_fee_vnd,
        service_fee_vnd=priced.service_fee_vnd,
        discount_vnd=priced.discount_vnd,
        total_vnd=priced.total_vnd,
        promotion=promotion,
        promo_code=promotion.code if promotion else "",
        payment_method=cart.payment_method,
        payment_status=PaymentStatus.COD_PENDING if is_cash else PaymentStatus.PENDING,
        eta=quote.eta,
        promised_at=quote.promised_at,
        status=OrderStatus.SCHEDULED if scheduled else OrderStatus.PLACED,
        scheduled_for=cart.scheduled_for,
        release_at=quote.release_at,
        merchant_accept_deadline=merchant_accept_deadline(now) if is_cash and not scheduled else None,
        payment_deadline=None if is_cash else now + timedelta(minutes=settings.PAYMENT_EXPIRY_MINUTES),
        version=1,
    )
    lines = [
        OrderLine(
            id=line_id,
            order=order,
            menu_item_id=line.item_id,
            name=line.name,
            base_price_vnd=line.base_price_vnd,
            unit_price_vnd=line.unit_price_vnd,
            quantity=line.quantity,
            line_total_vnd=line.line_total_vnd,
            options=line.options,
            note=line.note,
        )
        for line_id, line in zip(claim.line_ids, quote.lines, strict=True)
    ]
    kind = OrderEventKind.PAYMENT_PENDING
    if is_cash:
        kind = OrderEventKind.SCHEDULED if scheduled else OrderEventKind.PLACED
    event = new_order_event(order, kind=kind, from_status="", actor=customer, actor_role=ActorRole.CUSTOMER)
    announcement = pending_announcement(order, kind=kind)
    inserts: list[list[Any]] = [[order], lines, [event], [announcement]]
    updates: list[tuple[str, tuple[int, ...]]] = [(RECORD_RESULT_SQL, (order.pk, key_id))]
    if promotion is not None:
        inserts.append([redemption_for(promotion=promotion, order=order, discount_vnd=priced.discount_vnd)])
        updates.append(count_use_sql(promotion))
    if not is_cash:
        inserts.append([Payment(order=order, provider=configured_provider(), amount_vnd=order.total_vnd)])
    try:
        write_batch(inserts=inserts, updates=updates)
    except IntegrityError as error:
        if is_usage_limit_violation(error):
            raise PromoErrors.USED_UP() from None
        raise
    return Placement(order=order, created=True, lines=lines, events=[event])


def reorder_cart(*, order: Order) -> Cart:
    """A cart with the same items, options and drop-off as a past order (to be quoted afresh)."""
    lines = tuple(
        CartLine(
            item_id=line.menu_item_id,
            quantity=line.quantity,
            option_ids=tuple(option["option_id"] for option in line.options),
            note=line.note,
        )
        for line in order.lines.all()
        if line.menu_item_id is not None
    )
    return Cart(
        merchant_id=order.merchant_id,
        lines=lines,
        delivery_lat=order.delivery_lat,
        delivery_lng=order.delivery_lng,
        delivery_address=order.delivery_address,
        delivery_note=order.delivery_note,
        payment_method=order.payment_method,
    )
