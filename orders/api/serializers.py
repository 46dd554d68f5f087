"""Input and output shapes of the orders API. Inputs are strict: a client never sends a price or a status."""

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from loship.api_schema import BODY_REFUSALS, raises
from loship.errors import CommonErrors
from loship.idempotency.api import IDEMPOTENCY_REFUSALS
from orders.errors import (
    CartErrors,
    OrderErrors,
    PaymentErrors,
    PromoErrors,
    ScheduleErrors,
    SettlementErrors,
    TipErrors,
)
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod, Tip
from orders.services.placement import Cart, CartLine, Quote
from users.api.serializers import StrictSerializer

# --- Inputs --------------------------------------------------------------------------------------


class CartLineInputSerializer(StrictSerializer):
    item_id = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=99)
    option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=30
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CartInputSerializer(StrictSerializer):
    """A cart and where it goes: a saved address (`address_id`) or a point (`delivery_lat`/`delivery_lng`)."""

    merchant_id = serializers.IntegerField(min_value=1)
    lines = serializers.ListField(child=CartLineInputSerializer(), allow_empty=False, max_length=50)
    address_id = serializers.IntegerField(min_value=1, required=False)
    delivery_lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90), required=False
    )
    delivery_lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180), required=False
    )
    delivery_address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    delivery_note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    promo_code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CASH)
    tip_vnd = serializers.IntegerField(
        required=False, help_text="A tip for the driver (whole dong, paid by e-wallet); placing only."
    )
    scheduled_for = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Deliver at this slot (a quarter hour, up to two days ahead, while the merchant is "
        "open to prepare it) instead of as soon as possible.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_point = "delivery_lat" in attrs and "delivery_lng" in attrs
        if "address_id" not in attrs and not has_point:
            raise serializers.ValidationError(
                {"address_id": ["Give address_id, or delivery_lat and delivery_lng."]}, code="required"
            )
        return attrs


class TipInputSerializer(StrictSerializer):
    amount_vnd = serializers.IntegerField(help_text="Whole dong, within TIP_MIN_VND..TIP_MAX_VND.")


def cart_from(data: dict[str, Any], *, lat: Decimal, lng: Decimal, address: str, note: str) -> Cart:
    return Cart(
        merchant_id=data["merchant_id"],
        lines=tuple(
            CartLine(
                item_id=line["item_id"],
                quantity=line["quantity"],
                option_ids=tuple(line["option_ids"]),
                note=line["note"],
            )
            for line in data["lines"]
        ),
        delivery_lat=lat,
        delivery_lng=lng,
        delivery_address=address,
        delivery_note=note,
        note=data["note"],
        promo_code=data["promo_code"].strip(),
        payment_method=data["payment_method"],
        scheduled_for=data["scheduled_for"],
    )


class CancelInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ReasonInputSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=255)


class RefundAfterDeliveryInputSerializer(StrictSerializer):
    amount_vnd = serializers.IntegerField(min_value=1, help_text="Given back to the customer, in dong.")
    reason = serializers.CharField(max_length=200)


class RefundAfterDeliveryOutputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    refunded_vnd = serializers.IntegerField(help_text="Refunded after delivery so far, in dong.")
    refundable_vnd = serializers.IntegerField(help_text="What may still be refunded, in dong.")


class AcceptInputSerializer(StrictSerializer):
    prep_minutes = serializers.IntegerField(min_value=1, max_value=180)


class RatingInputSerializer(StrictSerializer):
    merchant_stars = serializers.IntegerField(min_value=1, max_value=5)
    merchant_text = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    driver_stars = serializers.IntegerField(min_value=1, max_value=5, required=False)
    driver_tags = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=10
    )


class OpsOrderFilterSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    merchant = serializers.IntegerField(min_value=1, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    code = serializers.CharField(max_length=16, required=False)
    phone = serializers.CharField(max_length=20, required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)


class MerchantOrderFilterSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)
    merchant = serializers.IntegerField(min_value=1, required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)


class StatementPeriodSerializer(StrictSerializer):
    """The statement's days in Asia/Ho_Chi_Minh, both included; this month when left out."""

    start = serializers.DateField(required=False)
    end = serializers.DateField(required=False)


class StatementTotalsSerializer(serializers.Serializer):
    gross_vnd = serializers.IntegerField(help_text="Food sales (order subtotals), before any discount.")
    commission_vnd = serializers.IntegerField(help_text="At each order's rate in force at its delivery.")
    merchant_promo_vnd = serializers.IntegerField(help_text="Discounts the merchant funds: deducted.")
    platform_promo_vnd = serializers.IntegerField(help_text="Discounts the platform funds: not deducted.")
    refunds_vnd = serializers.IntegerField(help_text="Refunds after delivery charged to the merchant.")
    net_vnd = serializers.IntegerField(help_text="gross - commission - merchant promotions - refunds.")


class StatementLineSerializer(StatementTotalsSerializer):
    order_id = serializers.IntegerField()
    order_code = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payment_method = serializers.CharField()
    commission_bps = serializers.IntegerField(allow_null=True)


class StatementSerializer(serializers.Serializer):
    """A merchant's statement, read from the ledger. Tips are the driver's and never appear."""

    merchant_id = serializers.IntegerField(source="merchant.pk")
    start = serializers.DateField()
    end = serializers.DateField()
    lines = StatementLineSerializer(many=True)
    totals = StatementTotalsSerializer()
    ledger_net_vnd = serializers.IntegerField(
        help_text="Credits minus debits of the merchant's payable account in the period."
    )
    reconciled = serializers.BooleanField(help_text="net_vnd equals ledger_net_vnd.")


class UpcomingOrderFilterSerializer(StrictSerializer):
    merchant = serializers.IntegerField(min_value=1, required=False)
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)


# --- Outputs -------------------------------------------------------------------------------------


class LineOptionOutputSerializer(serializers.Serializer):
    option_id = serializers.IntegerField()
    group_id = serializers.IntegerField()
    group = serializers.CharField()
    name = serializers.CharField()
    price_delta_vnd = serializers.IntegerField()


class QuoteLineOutputSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    name = serializers.CharField()
    base_price_vnd = serializers.IntegerField()
    unit_price_vnd = serializers.IntegerField()
    quantity = serializers.IntegerField()
    line_total_vnd = serializers.IntegerField()
    options = LineOptionOutputSerializer(many=True)
    note = serializers.CharField()


class MerchantRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class QuoteOutputSerializer(serializers.Serializer):
    merchant = MerchantRefSerializer()
    lines = QuoteLineOutputSerializer(many=True)
    subtotal_vnd = serializers.IntegerField()
    delivery_fee_vnd = serializers.IntegerField()
    small_order_fee_vnd = serializers.IntegerField()
    service_fee_vnd = serializers.IntegerField()
    discount_vnd = serializers.IntegerField()
    total_vnd = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    eta = serializers.DateTimeField()
    promised_at = serializers.DateTimeField(
        help_text="The delivery time promised to the customer: nine orders in ten arrive by it."
    )
    promo_code = serializers.CharField()
    payment_method = serializers.CharField()
    scheduled_for = serializers.DateTimeField(allow_null=True)
    release_at = serializers.DateTimeField(
        allow_null=True, help_text="When a scheduled order goes to the merchant (null: placed for now)."
    )


def quote_body(quote: Quote) -> dict[str, Any]:
    totals = quote.totals
    return {
        "merchant": {"id": quote.merchant.pk, "name": quote.merchant.name},
        "lines": [
            {
                "item_id": line.item_id,
                "name": line.name,
                "base_price_vnd": line.base_price_vnd,
                "unit_price_vnd": line.unit_price_vnd,
                "quantity": line.quantity,
                "line_total_vnd": line.line_total_vnd,
                "options": line.options,
                "note": line.note,
            }
            for line in quote.lines
        ],
        "subtotal_vnd": totals.subtotal_vnd,
        "delivery_fee_vnd": totals.delivery_fee_vnd,
        "small_order_fee_vnd": totals.small_order_fee_vnd,
        "service_fee_vnd": totals.service_fee_vnd,
        "discount_vnd": totals.discount_vnd,
        "total_vnd": totals.total_vnd,
        "distance_m": quote.distance_m,
        "eta": quote.eta,
        "promised_at": quote.promised_at,
        "promo_code": quote.promotion.code if quote.promotion else "",
        "payment_method": quote.cart.payment_method,
        "scheduled_for": quote.cart.scheduled_for,
        "release_at": quote.release_at,
    }


class ReorderCartLineOutputSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    option_ids = serializers.ListField(child=serializers.IntegerField())
    note = serializers.CharField()


class ReorderCartOutputSerializer(serializers.Serializer):
    """The cart to send back to `POST /orders` (with a new Idempotency-Key) to place it again."""

    merchant_id = serializers.IntegerField()
    lines = ReorderCartLineOutputSerializer(many=True)
    delivery_lat = serializers.CharField()
    delivery_lng = serializers.CharField()
    delivery_address = serializers.CharField()
    delivery_note = serializers.CharField()
    payment_method = serializers.CharField()


class ReorderOutputSerializer(serializers.Serializer):
    cart = ReorderCartOutputSerializer()
    quote = QuoteOutputSerializer()


class OrderLineOutputSerializer(serializers.ModelSerializer[OrderLine]):
    options = LineOptionOutputSerializer(many=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "menu_item_id",
            "name",
            "base_price_vnd",
            "unit_price_vnd",
            "quantity",
            "line_total_vnd",
            "options",
            "note",
        ]
        read_only_fields = fields


class OrderEventOutputSerializer(serializers.ModelSerializer[OrderEvent]):
    # Plain strings in the schema: the order states are documented once, on `status`.
    kind = serializers.CharField(read_only=True, help_text="The outbox topic without 'order.'.")
    from_status = serializers.CharField(help_text="The order state before (empty for the first event).")
    to_status = serializers.CharField(help_text="The order state after.")

    class Meta:
        model = OrderEvent
        fields = ["version", "kind", "from_status", "to_status", "actor_role", "reason", "created_at"]
        read_only_fields = fields


class PaymentOutputSerializer(serializers.Serializer):
    method = serializers.CharField()
    status = serializers.CharField()
    pay_url = serializers.CharField(allow_blank=True, allow_null=True)
    deeplink = serializers.CharField(allow_blank=True, allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()


class OrderSummaryOutputSerializer(serializers.ModelSerializer[Order]):
    merchant = MerchantRefSerializer()

    class Meta:
        model = Order
        fields = [
            "id",
            "code",
            "status",
            "version",
            "merchant",
            "total_vnd",
            "payment_method",
            "payment_status",
            "eta",
            "scheduled_for",
            "created_at",
        ]
        read_only_fields = fields


class UpcomingOrderOutputSerializer(OrderSummaryOutputSerializer):
    """A scheduled order as its merchant's upcoming list shows it: when it comes in to be accepted."""

    class Meta(OrderSummaryOutputSerializer.Meta):
        fields = [*OrderSummaryOutputSerializer.Meta.fields, "release_at"]
        read_only_fields = fields


class OrderCursorPageSerializer(serializers.Serializer):
    """Documents the customer's order history: a cursor page (no count), newest first."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OrderSummaryOutputSerializer(many=True)


class OrderPaymentOutputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    status = serializers.CharField(help_text="The order's payment status.")
    pay_url = serializers.CharField(
        allow_null=True, help_text="Where to pay: null for cash, empty until the e-wallet payment is opened."
    )
    deeplink = serializers.CharField(
        allow_null=True,
        help_text="The e-wallet app's link: null for cash, empty until the payment is opened.",
    )
    deadline = serializers.DateTimeField(allow_null=True, help_text="Unpaid after this, the order expires.")


class OrderDriverOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField()


class OrderCustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()


class OrderDetailOutputSerializer(serializers.ModelSerializer[Order]):
    merchant = MerchantRefSerializer()
    lines = OrderLineOutputSerializer(many=True)
    timeline = OrderEventOutputSerializer(many=True, source="events")
    payment = serializers.SerializerMethodField()
    driver = serializers.SerializerMethodField()
    customer = serializers.SerializerMethodField()
    delivery_code = serializers.SerializerMethodField(
        help_text="The 4 digits the customer tells the driver at the door; shown to the customer only "
        "(null for merchant staff and ops)."
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "code",
            "status",
            "status_reason",
            "delivery_code",
            "version",
            "merchant",
            "customer",
            "driver",
            "lines",
            "delivery_address",
            "delivery_lat",
            "delivery_lng",
            "delivery_note",
            "distance_m",
            "note",
            "subtotal_vnd",
            "delivery_fee_vnd",
            "small_order_fee_vnd",
            "service_fee_vnd",
            "discount_vnd",
            "total_vnd",
            "promo_code",
            "payment_method",
            "payment_status",
            "payment",
            "prep_minutes",
            "eta",
            "promised_at",
            "scheduled_for",
            "release_at",
            "merchant_accept_deadline",
            "created_at",
            "accepted_at",
            "ready_at",
            "picked_up_at",
            "delivered_at",
            "closed_at",
            "timeline",
        ]
        read_only_fields = fields

    def get_delivery_code(self, order: Order) -> str | None:
        return order.delivery_code if self.context.get("for_customer") else None

    @extend_schema_field(OrderPaymentOutputSerializer)
    def get_payment(self, order: Order) -> dict[str, Any]:
        payment = getattr(order, "payment", None) if order.payment_method == PaymentMethod.EWALLET else None
        return {
            "method": order.payment_method,
            "status": order.payment_status,
            "pay_url": payment.pay_url if payment else None,
            "deeplink": payment.deeplink if payment else None,
            "deadline": order.payment_deadline,
        }

    @extend_schema_field(OrderDriverOutputSerializer(allow_null=True))
    def get_driver(self, order: Order) -> dict[str, Any] | None:
        driver = order.driver
        if driver is None:
            return None
        return {"id": driver.pk, "name": driver.full_name, "phone": driver.phone}

    @extend_schema_field(OrderCustomerOutputSerializer)
    def get_customer(self, order: Order) -> dict[str, Any]:
        return {"id": order.customer_id, "phone": order.customer_phone}


class TipOutputSerializer(serializers.ModelSerializer[Tip]):
    order_id = serializers.IntegerField()

    class Meta:
        model = Tip
        fields = [
            "order_id",
            "amount_vnd",
            "status",
            "pay_url",
            "deeplink",
            "created_at",
            "confirmed_at",
            "paid_out_at",
            "refunded_at",
        ]
        read_only_fields = fields


class WebhookAckSerializer(serializers.Serializer):
    status = serializers.CharField()


_DATETIME = serializers.DateTimeField()


def _iso(value: Any) -> str | None:
    """A datetime as DRF renders it (in the display time zone), so both renderings agree."""
    return _DATETIME.to_representation(value) if value is not None else None


def order_summary_body(row: dict[str, Any]) -> dict[str, Any]:
    """The `OrderSummaryOutputSerializer` shape from a row of `selectors.ORDER_SUMMARY_COLUMNS`, built
    by hand for the customer's history (a test pins it to the serializer)."""
    return {
        "id": row["id"],
        "code": row["code"],
        "status": row["status"],
        "version": row["version"],
        "merchant": {"id": row["merchant_id"], "name": row["merchant__name"]},
        "total_vnd": row["total_vnd"],
        "payment_method": row["payment_method"],
        "payment_status": row["payment_status"],
        "eta": _iso(row["eta"]),
        "scheduled_for": _iso(row["scheduled_for"]),
        "created_at": _iso(row["created_at"]),
    }


def order_detail_body(
    order: Order, *, lines: list[OrderLine], events: list[OrderEvent], for_customer: bool = False
) -> dict[str, Any]:
    """The `OrderDetailOutputSerializer` shape, built by hand: the hot path (placement, actions) renders
    what it already holds instead of re-reading the order. A test pins it to the serializer.
    `for_customer` reveals the delivery code, which only the order's customer may see."""
    payment = getattr(order, "payment", None) if order.payment_method == PaymentMethod.EWALLET else None
    driver = order.driver
    return {
        "id": order.pk,
        "code": order.code,
        "status": order.status,
        "status_reason": order.status_reason,
        "delivery_code": order.delivery_code if for_customer else None,
        "version": order.version,
        "merchant": {"id": order.merchant_id, "name": order.merchant.name},
        "customer": {"id": order.customer_id, "phone": order.customer_phone},
        "driver": {"id": driver.pk, "name": driver.full_name, "phone": driver.phone} if driver else None,
        "lines": [
            {
                "id": line.pk,
                "menu_item_id": line.menu_item_id,
                "name": line.name,
                "base_price_vnd": line.base_price_vnd,
                "unit_price_vnd": line.unit_price_vnd,
                "quantity": line.quantity,
                "line_total_vnd": line.line_total_vnd,
                "options": line.options,
                "note": line.note,
            }
            for line in lines
        ],
        "delivery_address": order.delivery_address,
        "delivery_lat": str(order.delivery_lat),
        "delivery_lng": str(order.delivery_lng),
        "delivery_note": order.delivery_note,
        "distance_m": order.distance_m,
        "note": order.note,
        "subtotal_vnd": order.subtotal_vnd,
        "delivery_fee_vnd": order.delivery_fee_vnd,
        "small_order_fee_vnd": order.small_order_fee_vnd,
        "service_fee_vnd": order.service_fee_vnd,
        "discount_vnd": order.discount_vnd,
        "total_vnd": order.total_vnd,
        "promo_code": order.promo_code,
        "payment_method": order.payment_method,
        "payment_status": order.payment_status,
        "payment": {
            "method": order.payment_method,
            "status": order.payment_status,
            "pay_url": payment.pay_url if payment else None,
            "deeplink": payment.deeplink if payment else None,
            "deadline": _iso(order.payment_deadline),
        },
        "prep_minutes": order.prep_minutes,
        "eta": _iso(order.eta),
        "promised_at": _iso(order.promised_at),
        "scheduled_for": _iso(order.scheduled_for),
        "release_at": _iso(order.release_at),
        "merchant_accept_deadline": _iso(order.merchant_accept_deadline),
        "created_at": _iso(order.created_at),
        "accepted_at": _iso(order.accepted_at),
        "ready_at": _iso(order.ready_at),
        "picked_up_at": _iso(order.picked_up_at),
        "delivered_at": _iso(order.delivered_at),
        "closed_at": _iso(order.closed_at),
        "timeline": [
            {
                "version": event.version,
                "kind": event.kind,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "actor_role": event.actor_role,
                "reason": event.reason,
                "created_at": _iso(event.created_at),
            }
            for event in events
        ],
    }


# --- Schema only: what each operation refuses with beside validation (see loship.api_schema) -----

#: Pricing a cart: the merchant, its hours and radius, the items and options, the promo code (and an
#: `address_id` that is not the caller's is a 404 `not_found`).
_CART_REFUSALS = (
    CommonErrors.NOT_FOUND,
    CartErrors.MERCHANT_NOT_FOUND,
    CartErrors.MERCHANT_CLOSED,
    CartErrors.MERCHANT_BUSY,
    CartErrors.OUTSIDE_DELIVERY_RADIUS,
    CartErrors.ITEM_UNAVAILABLE,
    CartErrors.OPTION_UNAVAILABLE,
    CartErrors.OPTION_REQUIRED,
    CartErrors.TOO_MANY_OPTIONS,
    CartErrors.TOO_FEW_OPTIONS,
    CartErrors.EMPTY_CART,
    PromoErrors.INVALID,
    PromoErrors.EXPIRED,
    PromoErrors.NOT_STARTED,
    PromoErrors.MIN_SUBTOTAL_NOT_MET,
    PromoErrors.USED_UP,
    PromoErrors.CUSTOMER_LIMIT_REACHED,
    PromoErrors.WRONG_MERCHANT,
    ScheduleErrors.SLOT_NOT_ON_STEP,
    ScheduleErrors.SLOT_TOO_SOON,
    ScheduleErrors.SLOT_TOO_FAR,
    ScheduleErrors.SLOT_OUTSIDE_HOURS,
)
QUOTE_ERRORS = raises(*_CART_REFUSALS)
PLACE_ERRORS = raises(
    *_CART_REFUSALS,
    CommonErrors.IDEMPOTENCY_KEY_REQUIRED,
    CommonErrors.IDEMPOTENCY_KEY_REUSED,
    TipErrors.AMOUNT_OUT_OF_BOUNDS,
)
TIP_ERRORS = raises(
    TipErrors.AMOUNT_OUT_OF_BOUNDS, TipErrors.NOT_ALLOWED, TipErrors.WINDOW_CLOSED, TipErrors.ALREADY_GIVEN
)
TIP_READ_ERRORS = raises(TipErrors.NOT_FOUND)
REORDER_ERRORS = raises(*_CART_REFUSALS)
CANCEL_ERRORS = raises(OrderErrors.NOT_CANCELLABLE)
PAYMENT_ERRORS = raises(PaymentErrors.NOT_PAYABLE, PaymentErrors.GATEWAY_UNAVAILABLE)
RATING_ERRORS = raises(
    OrderErrors.NOT_RATEABLE, OrderErrors.ALREADY_RATED, OrderErrors.NO_DRIVER_TO_RATE, *IDEMPOTENCY_REFUSALS
)
#: A merchant's step on a placed or accepted order (an order still awaiting its e-wallet payment is
#: hidden from the merchant).
_STEP_REFUSALS = (OrderErrors.TRANSITION_NOT_ALLOWED, OrderErrors.AWAITING_PAYMENT)
ACCEPT_ERRORS = raises(*_STEP_REFUSALS, OrderErrors.PREP_MINUTES_INVALID)
REJECT_ERRORS = raises(*_STEP_REFUSALS)
#: preparing and ready take no body, but refuse one they cannot read or with fields they do not know.
BODYLESS_STEP_ERRORS = raises(*_STEP_REFUSALS, *BODY_REFUSALS)
DELIVERY_FAILED_ERRORS = raises(*_STEP_REFUSALS)
REFUND_AFTER_DELIVERY_ERRORS = raises(
    SettlementErrors.NOT_DELIVERED,
    SettlementErrors.EXCEEDS_REFUNDABLE,
    CommonErrors.IDEMPOTENCY_KEY_REQUIRED,
    *IDEMPOTENCY_REFUSALS,
)
STATEMENT_ERRORS = raises(CartErrors.MERCHANT_NOT_FOUND, SettlementErrors.PERIOD_INVALID, *BODY_REFUSALS)
WEBHOOK_ERRORS = raises(
    PaymentErrors.SIGNATURE_INVALID,
    PaymentErrors.WEBHOOK_MALFORMED,
    PaymentErrors.AMOUNT_MISMATCH,
    PaymentErrors.PAYMENT_NOT_FOUND,
)
