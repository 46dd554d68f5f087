"""Quoting a cart and placing it as an order, exactly once per `Idempotency-Key`.

The server prices everything from the menu as it is now; the client sends only what it wants (items,
options, quantities, notes, where, which promo, how to pay). Placement re-validates and re-prices
inside one transaction, and the order lines keep a snapshot of names, prices and options.
"""

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from merchants.models import MenuItem, Merchant, Option, OptionGroup
from merchants.selectors import is_open_now
from orders.errors import CartErrors, OrderErrors
from orders.geo import delivery_distance
from orders.models import (
    ActorRole,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    PlacementKey,
    Promotion,
)
from orders.pricing import PricingConfig, Totals, estimated_delivery_at, totals
from orders.services.lifecycle import merchant_accept_deadline, record_change
from orders.services.promotions import check_promotion, find_promotion, lock_and_check_promotion, redeem
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
    promotion: Promotion | None
    cart: Cart
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Placement:
    order: Order
    created: bool
    #: Filled when the order was just created, so the caller can render it without reading it back.
    lines: list[OrderLine] = field(default_factory=list)
    events: list[OrderEvent] = field(default_factory=list)


def request_hash(body: dict[str, Any]) -> str:
    """A stable fingerprint of a placement body (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _merchant(merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id, is_active=True).first()
    if merchant is None:
        raise CartErrors.MERCHANT_NOT_FOUND(
            fields={"merchant_id": [CartErrors.MERCHANT_NOT_FOUND.text.render()]}
        )
    return merchant


def _check_merchant_open(merchant: Merchant, now: datetime) -> None:
    if not is_open_now(merchant, at=now):
        raise CartErrors.MERCHANT_CLOSED(extra={"merchant_id": merchant.pk})
    if merchant.is_busy:
        raise CartErrors.MERCHANT_BUSY(extra={"merchant_id": merchant.pk})


def _price_lines(merchant: Merchant, cart_lines: Sequence[CartLine]) -> list[PricedLine]:
    """Check every line against the live menu and price it; refusals name the line."""
    if not cart_lines:
        raise CartErrors.EMPTY_CART(fields={"lines": [CartErrors.EMPTY_CART.text.render()]})
    item_ids = {line.item_id for line in cart_lines}
    items = {item.pk: item for item in MenuItem.objects.filter(merchant=merchant, pk__in=item_ids)}
    groups_by_item: dict[int, list[OptionGroup]] = defaultdict(list)
    for group in OptionGroup.objects.filter(item_id__in=items).order_by("id"):
        groups_by_item[group.item_id].append(group)
    options = {
        option.pk: option
        for option in Option.objects.filter(group__item_id__in=items).select_related("group")
    }
    priced = []
    for index, line in enumerate(cart_lines):
        item = items.get(line.item_id)
        if item is None or not item.is_available:
            name = item.name if item else str(line.item_id)
            raise CartErrors.ITEM_UNAVAILABLE(extra={"line": index, "item_id": line.item_id}, name=name)
        chosen: dict[int, list[Option]] = defaultdict(list)
        for option_id in dict.fromkeys(line.option_ids):
            option = options.get(option_id)
            if option is None or option.group.item_id != item.pk:
                raise CartErrors.OPTION_UNAVAILABLE(
                    extra={"line": index, "option_id": option_id}, name=str(option_id)
                )
            if not option.is_available:
                raise CartErrors.OPTION_UNAVAILABLE(
                    extra={"line": index, "option_id": option_id}, name=option.name
                )
            chosen[option.group_id].append(option)
        for group in groups_by_item[item.pk]:
            count = len(chosen[group.pk])
            extra = {"line": index, "item_id": item.pk, "group_id": group.pk}
            if count == 0 and (group.is_required or group.min_select > 0):
                raise CartErrors.OPTION_REQUIRED(extra=extra, group=group.name, item=item.name)
            if count < group.min_select:
                raise CartErrors.TOO_FEW_OPTIONS(extra=extra, group=group.name, min=group.min_select)
            if group.max_select and count > group.max_select:
                raise CartErrors.TOO_MANY_OPTIONS(extra=extra, group=group.name, max=group.max_select)
        picked = [option for group in groups_by_item[item.pk] for option in chosen[group.pk]]
        unit_price = item.price_vnd + sum(option.price_delta_vnd for option in picked)
        priced.append(
            PricedLine(
                item_id=item.pk,
                name=item.name,
                base_price_vnd=item.price_vnd,
                unit_price_vnd=unit_price,
                quantity=line.quantity,
                line_total_vnd=unit_price * line.quantity,
                options=[
                    {
                        "option_id": option.pk,
                        "group_id": option.group_id,
                        "group": option.group.name,
                        "name": option.name,
                        "price_delta_vnd": option.price_delta_vnd,
                    }
                    for option in picked
                ],
                note=line.note,
            )
        )
    return priced


def quote_cart(*, customer: User, cart: Cart, now: datetime | None = None, check_promo: bool = True) -> Quote:
    """Validate the cart against the merchant and menu as they are now, and price it."""
    now = now or timezone.now()
    merchant = _merchant(cart.merchant_id)
    _check_merchant_open(merchant, now)
    distance = delivery_distance(merchant, lat=cart.delivery_lat, lng=cart.delivery_lng)
    if distance.straight_m > merchant.delivery_radius_m:
        raise CartErrors.OUTSIDE_DELIVERY_RADIUS(
            extra={"distance_m": distance.straight_m, "delivery_radius_m": merchant.delivery_radius_m}
        )
    lines = _price_lines(merchant, cart.lines)
    subtotal = sum(line.line_total_vnd for line in lines)
    promotion = None
    discount = 0
    if cart.promo_code and check_promo:
        promotion = find_promotion(cart.promo_code)
        discount = check_promotion(
            promotion, customer=customer, merchant_id=merchant.pk, subtotal_vnd=subtotal, now=now
        )
    config = PricingConfig.from_settings()
    priced = totals(
        subtotal_vnd=subtotal,
        distance_m=distance.road_m,
        min_order_vnd=merchant.min_order_vnd,
        discount_vnd=discount,
        config=config,
    )
    eta = estimated_delivery_at(
        now=now, prep_minutes=merchant.prep_minutes, distance_m=distance.road_m, config=config
    )
    return Quote(
        merchant=merchant,
        lines=lines,
        totals=priced,
        distance_m=distance.road_m,
        eta=eta,
        promotion=promotion,
        cart=cart,
    )


def _new_code() -> str:
    return "LS" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def place_order(*, customer: User, cart: Cart, idempotency_key: str, body_hash: str) -> Placement:
    """Place the cart as an order once per (customer, key): the same key and body return the first
    order; the same key with another body is `idempotency_key_reused` (422).

    Concurrent requests with one key serialize on the unique (customer, key) row: the losers wait for
    the winner's commit and then return its order.
    """
    with transaction.atomic():
        key_id = _claim_key(customer=customer, key=idempotency_key, body_hash=body_hash)
        if key_id is None:
            key = PlacementKey.objects.select_for_update().get(customer=customer, key=idempotency_key)
            if key.request_hash != body_hash:
                raise OrderErrors.IDEMPOTENCY_KEY_REUSED()
            if key.order_id is not None:
                return Placement(order=Order.objects.get(pk=key.order_id), created=False)
            key_id = key.pk
        placement = _create_order(customer=customer, cart=cart)
        PlacementKey.objects.filter(pk=key_id).update(order=placement.order)
    return placement


def _claim_key(*, customer: User, key: str, body_hash: str) -> int | None:
    """Insert the (customer, key) row; its id if this request inserted it, None if it already existed.

    A concurrent insert of the same key waits here until the other transaction ends (unique index)."""
    table = PlacementKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (customer_id, key, request_hash, created_at) VALUES (%s, %s, %s, %s) "  # noqa: S608
            "ON CONFLICT (customer_id, key) DO NOTHING RETURNING id",
            [customer.pk, key, body_hash, timezone.now()],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _create_order(*, customer: User, cart: Cart) -> Placement:
    now = timezone.now()
    # The promotion is checked below under its row lock, against live counts.
    quote = quote_cart(customer=customer, cart=cart, now=now, check_promo=False)
    promotion, discount = None, 0
    if cart.promo_code:
        promotion, discount = lock_and_check_promotion(
            code=cart.promo_code,
            customer=customer,
            merchant_id=quote.merchant.pk,
            subtotal_vnd=quote.totals.subtotal_vnd,
            now=now,
        )
    priced = totals(
        subtotal_vnd=quote.totals.subtotal_vnd,
        distance_m=quote.distance_m,
        min_order_vnd=quote.merchant.min_order_vnd,
        discount_vnd=discount,
        config=PricingConfig.from_settings(),
    )
    is_cash = cart.payment_method == PaymentMethod.CASH
    order = Order.objects.create(
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
        merchant_accept_deadline=merchant_accept_deadline(now) if is_cash else None,
        payment_deadline=None if is_cash else now + timedelta(minutes=settings.PAYMENT_EXPIRY_MINUTES),
        version=1,
    )
    lines = OrderLine.objects.bulk_create(
        OrderLine(
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
        for line in quote.lines
    )
    if promotion is not None:
        redeem(promotion=promotion, order=order, discount_vnd=priced.discount_vnd)
    if not is_cash:
        Payment.objects.create(order=order, provider="sandbox", amount_vnd=order.total_vnd)
    event = record_change(
        order,
        kind="placed" if is_cash else "payment_pending",
        from_status="",
        actor=customer,
        actor_role=ActorRole.CUSTOMER,
        save=False,
    )
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
