"""Orders: the order and its lines (a snapshot of the menu), its history, promotions, idempotent
placement keys, payments and the money ledger.

`Order.version` is the order's event sequence: every change bumps it, the `OrderEvent` row and the
outbox event of that change carry it, so a client that sees a gap asks for the snapshot.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    PLACED = "placed", _("Placed")
    ACCEPTED = "accepted", _("Accepted")
    PREPARING = "preparing", _("Preparing")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")


#: States an order never leaves.
TERMINAL_STATUSES = frozenset(
    {OrderStatus.DELIVERED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.DELIVERY_FAILED}
)
#: States in which the order still waits for, or is with, the merchant (a driver may be assigned).
BEFORE_PICKUP_STATUSES = frozenset(
    {OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.PREPARING, OrderStatus.READY_FOR_PICKUP}
)


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash on delivery")
    EWALLET = "ewallet", _("E-wallet")


class PaymentStatus(models.TextChoices):
    """The order's money state. Cash orders start `cod_pending` and become `paid` on delivery."""

    COD_PENDING = "cod_pending", _("Cash on delivery")
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    EXPIRED = "expired", _("Payment expired")
    REFUND_PENDING = "refund_pending", _("Refund pending")
    REFUNDED = "refunded", _("Refunded")


#: States in which an e-wallet order may still be paid: placed, or scheduled (paid when it is placed,
#: long before it is released to the merchant).
PAYABLE_STATUSES = frozenset({OrderStatus.SCHEDULED, OrderStatus.PLACED})


#: Payment states in which an e-wallet order is not (yet, or ever) the merchant's business.
HIDDEN_FROM_MERCHANT = (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.EXPIRED)


class ActorRole(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    MERCHANT = "merchant", _("Merchant")
    DRIVER = "driver", _("Driver")
    OPS = "ops", _("Operations")
    SYSTEM = "system", _("System")


#: What `total_vnd` must equal (a check constraint keeps stored totals honest).
TOTAL_EXPRESSION = (
    models.F("subtotal_vnd")
    + models.F("delivery_fee_vnd")
    + models.F("small_order_fee_vnd")
    + models.F("service_fee_vnd")
    - models.F("discount_vnd")
)


def new_delivery_code() -> str:
    """The 4 digits the customer tells the driver at the door (optional delivery confirmation)."""
    return f"{secrets.randbelow(10_000):04d}"


class Order(models.Model):
    code = models.CharField(max_length=16, unique=True, verbose_name=_("code"))
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="orders", verbose_name=_("merchant")
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="driver_orders",
        verbose_name=_("driver"),
    )
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PLACED, verbose_name=_("status")
    )
    version = models.PositiveIntegerField(
        default=0, help_text=_("Bumped on every change: the event sequence."), verbose_name=_("version")
    )
    status_reason = models.CharField(max_length=255, blank=True, verbose_name=_("status reason"))
    cancelled_by = models.CharField(
        max_length=10, choices=ActorRole.choices, blank=True, verbose_name=_("cancelled by")
    )

    delivery_address = models.CharField(max_length=255, verbose_name=_("delivery address"))
    delivery_lat = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        verbose_name=_("delivery lat"),
    )
    delivery_lng = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        verbose_name=_("delivery lng"),
    )
    delivery_note = models.CharField(max_length=255, blank=True, verbose_name=_("delivery note"))
    customer_phone = models.CharField(
        max_length=20, help_text=_("Snapshot of the customer's phone."), verbose_name=_("customer phone")
    )
    delivery_code = models.CharField(
        max_length=4,
        default=new_delivery_code,
        help_text=_("Shown to the customer; the driver may ask for it."),
        verbose_name=_("delivery code"),
    )
    distance_m = models.PositiveIntegerField(
        help_text=_("Estimated road distance merchant -> customer."), verbose_name=_("distance m")
    )
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))

    subtotal_vnd = models.PositiveBigIntegerField(verbose_name=_("subtotal vnd"))
    delivery_fee_vnd = models.PositiveBigIntegerField(verbose_name=_("delivery fee vnd"))
    small_order_fee_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("small order fee vnd"))
    service_fee_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("service fee vnd"))
    discount_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("discount vnd"))
    total_vnd = models.PositiveBigIntegerField(verbose_name=_("total vnd"))
    promotion = models.ForeignKey(
        "orders.Promotion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("promotion"),
    )
    promo_code = models.CharField(max_length=32, blank=True, verbose_name=_("promo code"))

    payment_method = models.CharField(
        max_length=10, choices=PaymentMethod.choices, verbose_name=_("payment method")
    )
    payment_status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, verbose_name=_("payment status")
    )
    commission_bps = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("The merchant's commission rate in force at delivery, booked with the sale."),
        verbose_name=_("commission bps"),
    )

    prep_minutes = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("prep minutes"))
    eta = models.DateTimeField(
        null=True, blank=True, help_text=_("Estimated delivery time."), verbose_name=_("eta")
    )
    promised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "The delivery time promised to the customer (nine orders in ten arrive by it): set at "
            "placement, updated at merchant accept, driver assignment and pickup."
        ),
        verbose_name=_("promised at"),
    )
    scheduled_for = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The delivery slot the customer chose (null: as soon as possible)."),
        verbose_name=_("scheduled for"),
    )
    # Deadlines swept by orders.tasks.sweep_deadlines; cleared once they no longer apply.
    payment_deadline = models.DateTimeField(null=True, blank=True, verbose_name=_("payment deadline"))
    merchant_accept_deadline = models.DateTimeField(
        null=True, blank=True, verbose_name=_("merchant accept deadline")
    )
    release_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("A scheduled order goes to the merchant then (swept by beat)."),
        verbose_name=_("release at"),
    )

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    ready_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ready at"))
    picked_up_at = models.DateTimeField(null=True, blank=True, verbose_name=_("picked up at"))
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Rejected, cancelled or failed at."), verbose_name=_("closed at")
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at", "-id"], name="order_customer_feed"),
            models.Index(fields=["merchant", "status", "-created_at"], name="order_merchant_status"),
            models.Index(fields=["status", "-created_at"], name="order_status_created"),
            models.Index(fields=["customer_phone"], name="order_customer_phone"),
            models.Index(
                fields=["merchant_accept_deadline"],
                condition=Q(merchant_accept_deadline__isnull=False),
                name="order_accept_deadline_due",
            ),
            models.Index(
                fields=["release_at"],
                condition=Q(status="scheduled"),
                name="order_release_due",
            ),
            models.Index(
                fields=["merchant", "scheduled_for"],
                condition=Q(status="scheduled"),
                name="order_merchant_upcoming",
            ),
            models.Index(
                fields=["payment_deadline"],
                condition=Q(payment_deadline__isnull=False),
                name="order_payment_deadline_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total_vnd=TOTAL_EXPRESSION), name="order_total_adds_up"),
            models.CheckConstraint(
                condition=~Q(status="scheduled") | Q(scheduled_for__isnull=False, release_at__isnull=False),
                name="order_scheduled_has_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def visible_to_merchant(self) -> bool:
        """An e-wallet order reaches the merchant only once it is paid (or if it ever was)."""
        return self.payment_status not in HIDDEN_FROM_MERCHANT


class OrderLine(models.Model):
    """One cart line as it was when ordered: later menu edits never change it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    menu_item = models.ForeignKey(
        "merchants.MenuItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("menu item"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    base_price_vnd = models.PositiveBigIntegerField(verbose_name=_("base price vnd"))
    unit_price_vnd = models.PositiveBigIntegerField(
        help_text=_("Base price plus chosen options."), verbose_name=_("unit price vnd")
    )
    quantity = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)], verbose_name=_("quantity"))
    line_total_vnd = models.PositiveBigIntegerField(verbose_name=_("line total vnd"))
    # [{"option_id", "group_id", "group", "name", "price_delta_vnd"}]
    options = models.JSONField(default=list, blank=True, verbose_name=_("options"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


#: Every order event's outbox topic is this prefix and its kind; subscribers use it to hear them all.
ORDER_TOPIC_PREFIX = "order."


class OrderEventKind(models.TextChoices):
    """What changed: the kind of an `OrderEvent` and its outbox topic `order.<kind>`.

    A change of state is named by the state it reaches; the others leave the state as it was."""

    PAYMENT_PENDING = "payment_pending", _("Placed, awaiting payment")
    SCHEDULED = "scheduled", _("Scheduled for a slot")
    PLACED = "placed", _("Placed")
    ACCEPTED = "accepted", _("Accepted")
    PREPARING = "preparing", _("Preparing")
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    PAYMENT_UPDATED = "payment_updated", _("Payment updated")
    DRIVER_ASSIGNED = "driver_assigned", _("Driver assigned")
    DRIVER_UNASSIGNED = "driver_unassigned", _("Driver unassigned")
    ETA_UPDATED = "eta_updated", _("ETA updated")
    TIP_UPDATED = "tip_updated", _("Tip updated")

    @property
    def topic(self) -> str:
        """The outbox topic of this kind of event."""
        return f"{ORDER_TOPIC_PREFIX}{self.value}"

    @classmethod
    def of_topic(cls, topic: str) -> "OrderEventKind | None":
        """The kind an outbox topic names, or None when it is not an order event."""
        if not topic.startswith(ORDER_TOPIC_PREFIX):
            return None
        value = topic.removeprefix(ORDER_TOPIC_PREFIX)
        return cls(value) if value in cls.values else None


class OrderEvent(models.Model):
    """The timeline: one row per change of an order (who, when, from, to, why)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    kind = models.CharField(
        max_length=32,
        choices=OrderEventKind.choices,
        help_text=_("The outbox topic without 'order.'."),
        verbose_name=_("kind"),
    )
    from_status = models.CharField(
        max_length=20, choices=OrderStatus.choices, blank=True, verbose_name=_("from status")
    )
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, verbose_name=_("to status"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(max_length=10, choices=ActorRole.choices, verbose_name=_("actor role"))
    reason = models.CharField(max_length=255, blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="order_event_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.version} {self.kind}"


class PromotionKind(models.TextChoices):
    PERCENT = "percent", _("Percentage of the subtotal")
    FIXED = "fixed", _("Fixed amount")


class PromotionFunding(models.TextChoices):
    """Who pays for the discount: the platform (the merchant is paid the full price) or the merchant
    (the discount comes off its payout)."""

    PLATFORM = "platform", _("Platform")
    MERCHANT = "merchant", _("Merchant")


class Promotion(models.Model):
    """A promo code: merchant-specific when `merchant` is set, platform-wide otherwise.

    `used_count` counts live redemptions; it is changed only under a row lock on this promotion.
    `funded_by` says who pays the discount; only a merchant-specific promotion may be merchant-funded,
    and what an order's discount cost whom is booked in the ledger at delivery.
    """

    code = models.CharField(
        max_length=32, unique=True, help_text=_("Stored upper-case."), verbose_name=_("code")
    )
    description = models.CharField(max_length=255, blank=True, verbose_name=_("description"))
    kind = models.CharField(max_length=10, choices=PromotionKind.choices, verbose_name=_("kind"))
    value = models.PositiveBigIntegerField(help_text=_("Percent (1-100) or VND."), verbose_name=_("value"))
    max_discount_vnd = models.PositiveBigIntegerField(
        null=True, blank=True, verbose_name=_("max discount vnd")
    )
    min_subtotal_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("min subtotal vnd"))
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    ends_at = models.DateTimeField(verbose_name=_("ends at"))
    usage_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Across all customers."), verbose_name=_("usage limit")
    )
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("per customer limit")
    )
    used_count = models.PositiveIntegerField(default=0, verbose_name=_("used count"))
    merchant = models.ForeignKey(
        "merchants.Merchant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="promotions",
        verbose_name=_("merchant"),
    )
    funded_by = models.CharField(
        _("funded by"),
        max_length=10,
        choices=PromotionFunding.choices,
        default=PromotionFunding.PLATFORM,
        help_text=_("Who pays the discount: the platform, or the merchant (off its payout)."),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__gte=1, value__lte=100), name="promotion_percent_range"
            ),
            models.CheckConstraint(
                condition=Q(funded_by="platform") | Q(merchant__isnull=False),
                name="promotion_merchant_funded_has_merchant",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="promotion_window"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(used_count__lte=models.F("usage_limit")),
                name="promotion_usage_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args: object, **kwargs: object) -> None:
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PromotionRedemption(models.Model):
    """One use of a promotion by one order. Released (and the use given back) when the order is
    cancelled or rejected before delivery."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("promotion")
    )
    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="redemption", verbose_name=_("order")
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    discount_vnd = models.PositiveBigIntegerField(verbose_name=_("discount vnd"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    released_at = models.DateTimeField(null=True, blank=True, verbose_name=_("released at"))

    class Meta:
        verbose_name = _("promotion redemption")
        verbose_name_plural = _("promotion redemptions")
        indexes = [
            models.Index(
                fields=["promotion", "customer"],
                condition=Q(released_at__isnull=True),
                name="redemption_live_per_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id} -> {self.order_id}"


class PaymentAttemptStatus(models.TextChoices):
    CREATED = "created", _("Created")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    REFUND_PENDING = "refund_pending", _("Refund pending")
    REFUNDED = "refunded", _("Refunded")


class Payment(models.Model):
    """An e-wallet payment of one order at a gateway (one per order)."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="payment", verbose_name=_("order")
    )
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    amount_vnd = models.PositiveBigIntegerField(verbose_name=_("amount vnd"))
    status = models.CharField(
        max_length=16,
        choices=PaymentAttemptStatus.choices,
        default=PaymentAttemptStatus.CREATED,
        verbose_name=_("status"),
    )
    provider_ref = models.CharField(
        max_length=64, blank=True, help_text=_("The gateway's payment id."), verbose_name=_("provider ref")
    )
    pay_url = models.URLField(max_length=500, blank=True, verbose_name=_("pay url"))
    deeplink = models.CharField(max_length=500, blank=True, verbose_name=_("deeplink"))
    refund_ref = models.CharField(max_length=64, blank=True, verbose_name=_("refund ref"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    refunded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refunded at"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="payment_provider_ref",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_ref or '-'} ({self.status})"


class RefusedNotice(models.Model):
    """A verified gateway notification we refused to apply (its amount is not the payment's): kept for
    ops to chase with the provider, once per (provider, event, reason) however often it is replayed."""

    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    event_id = models.CharField(
        max_length=64,
        help_text=_("The provider's id of the event (MoMo: transId)."),
        verbose_name=_("event id"),
    )
    merchant_ref = models.CharField(max_length=64, verbose_name=_("merchant ref"))
    reason = models.CharField(max_length=32, verbose_name=_("reason"))
    expected_vnd = models.PositiveBigIntegerField(verbose_name=_("expected vnd"))
    received_vnd = models.BigIntegerField(verbose_name=_("received vnd"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("refused notice")
        verbose_name_plural = _("refused notices")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id", "reason"], name="refused_notice_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.merchant_ref}: {self.reason}"


class LedgerKind(models.TextChoices):
    CHARGE = "charge", _("E-wallet charge")
    REFUND = "refund", _("E-wallet refund")
    COD_COLLECTED = "cod_collected", _("Cash collected by the driver")
    TIP = "tip", _("Tip charged to the customer")
    TIP_PAYOUT = "tip_payout", _("Tip to the driver's earnings")
    TIP_REFUND = "tip_refund", _("Tip refunded")
    CASH_SETTLED = "cash_settled", _("Driver's cash paid in at a hub")
    CASH_TOPUP = "cash_topup", _("Driver's cash paid by e-wallet top-up")
    SALE = "sale", _("Food sale owed to the merchant")
    COMMISSION = "commission", _("Commission on the sale")
    MERCHANT_PROMO = "merchant_promo", _("Discount funded by the merchant")
    PLATFORM_PROMO = "platform_promo", _("Discount funded by the platform")
    ORDER_FEES = "order_fees", _("Delivery and service fees")
    MERCHANT_REFUND = "merchant_refund", _("Refund after delivery, charged to the merchant")


class LedgerAccount(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    GATEWAY = "gateway", _("Gateway clearing")
    DRIVER_CASH = "driver_cash", _("Cash held by drivers")
    ORDERS_RECEIVABLE = "orders_receivable", _("Orders receivable")
    TIPS_HELD = "tips_held", _("Tips paid, not yet the driver's")
    DRIVER_EARNINGS = "driver_earnings", _("Owed to drivers (earnings)")
    HUB_CASH = "hub_cash", _("Cash paid in at hubs")
    MERCHANT_PAYABLE = "merchant_payable", _("Owed to merchants")
    COMMISSION_REVENUE = "commission", _("Commission earned")
    PROMOTIONS_EXPENSE = "promotions", _("Discounts paid by the platform")
    FEES_REVENUE = "fees", _("Delivery and service fees earned")


#: Accounts kept per driver: an entry moving one of them names the driver (`LedgerEntry.driver`).
DRIVER_ACCOUNTS = (LedgerAccount.DRIVER_CASH, LedgerAccount.DRIVER_EARNINGS)
#: Accounts kept per merchant: an entry moving one of them names the merchant (`LedgerEntry.merchant`).
MERCHANT_ACCOUNTS = (LedgerAccount.MERCHANT_PAYABLE,)


class LedgerEntry(models.Model):
    """One money movement of `amount_vnd` from `credit` to `debit`: each entry debits one account and
    credits another by the same amount, so the debits and credits of the whole ledger are equal and an
    account's balance is its debits minus its credits.

    `(kind, reference)` is unique, so a replayed webhook or a retried task cannot book twice. An entry
    that moves a driver's account (`DRIVER_ACCOUNTS`) names the driver; a driver's cash settlement has
    no order. An entry that moves a merchant's account (`MERCHANT_ACCOUNTS`) names the merchant, and so
    do the platform's side of a delivered order's settlement (its promotion and fees), so a merchant's
    statement is a read of its entries.
    """

    order = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("order"),
    )
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The driver whose cash or earnings the entry moves."),
        verbose_name=_("driver"),
    )
    merchant = models.ForeignKey(
        "merchants.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The merchant whose sale, commission, promotion or refund the entry books."),
        verbose_name=_("merchant"),
    )
    kind = models.CharField(max_length=16, choices=LedgerKind.choices, verbose_name=_("kind"))
    amount_vnd = models.PositiveBigIntegerField(verbose_name=_("amount vnd"))
    debit = models.CharField(max_length=20, choices=LedgerAccount.choices, verbose_name=_("debit"))
    credit = models.CharField(max_length=20, choices=LedgerAccount.choices, verbose_name=_("credit"))
    reference = models.CharField(max_length=100, verbose_name=_("reference"))
    created_at = models.DateTimeField(
        default=timezone.now,
        help_text=_("When the money moved: now, or the delivery's instant for the entries it books."),
        verbose_name=_("created at"),
    )

    class Meta:
        verbose_name = _("ledger entry")
        ordering = ["id"]
        verbose_name_plural = _("ledger entries")
        indexes = [
            models.Index(fields=["driver", "debit", "credit"], name="ledger_driver_accounts"),
            models.Index(
                fields=["merchant", "created_at"],
                condition=Q(merchant__isnull=False),
                name="ledger_merchant_period",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_kind_reference"),
            models.CheckConstraint(condition=~Q(debit=models.F("credit")), name="ledger_two_accounts"),
            models.CheckConstraint(
                condition=Q(driver__isnull=False)
                | (~Q(debit__in=DRIVER_ACCOUNTS) & ~Q(credit__in=DRIVER_ACCOUNTS)),
                name="ledger_driver_account_named",
            ),
            models.CheckConstraint(
                condition=Q(merchant__isnull=False)
                | (~Q(debit__in=MERCHANT_ACCOUNTS) & ~Q(credit__in=MERCHANT_ACCOUNTS)),
                name="ledger_merchant_account_named",
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False) | Q(driver__isnull=False), name="ledger_has_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_vnd} VND ({self.reference})"


class TipStatus(models.TextChoices):
    """A tip's money: paid through the gateway, held until delivery, then the driver's earnings."""

    PENDING = "pending", _("Awaiting payment")
    HELD = "held", _("Paid, held until delivery")
    PAID_OUT = "paid_out", _("In the driver's earnings")
    FAILED = "failed", _("Payment failed or abandoned")
    REFUND_PENDING = "refund_pending", _("Refund pending")
    REFUNDED = "refunded", _("Refunded")


#: The gateway reference of a tip's payment is this prefix and the order's code.
TIP_REF_PREFIX = "tip-"


class Tip(models.Model):
    """The customer's one tip for the driver of an order, paid by e-wallet through the gateway.

    Given at checkout or until `TIP_WINDOW_HOURS` after delivery; every dong goes to the driver's
    earnings (`LedgerKind.TIP_PAYOUT`) once the order is delivered and the tip paid, and it is refunded
    if the order ends before pickup.
    """

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="tip", verbose_name=_("order"))
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    amount_vnd = models.PositiveBigIntegerField(verbose_name=_("amount vnd"))
    status = models.CharField(
        max_length=16, choices=TipStatus.choices, default=TipStatus.PENDING, verbose_name=_("status")
    )
    provider = models.CharField(max_length=20, verbose_name=_("provider"))
    provider_ref = models.CharField(
        max_length=64, blank=True, help_text=_("The gateway's payment id."), verbose_name=_("provider ref")
    )
    pay_url = models.URLField(max_length=500, blank=True, verbose_name=_("pay url"))
    deeplink = models.CharField(max_length=500, blank=True, verbose_name=_("deeplink"))
    refund_ref = models.CharField(max_length=64, blank=True, verbose_name=_("refund ref"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    paid_out_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paid out at"))
    refunded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("refunded at"))

    class Meta:
        verbose_name = _("tip")
        verbose_name_plural = _("tips")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_vnd__gt=0), name="tip_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"], condition=~Q(provider_ref=""), name="tip_provider_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"tip {self.amount_vnd} VND on {self.order_id} ({self.status})"

    @property
    def merchant_ref(self) -> str:
        return f"{TIP_REF_PREFIX}{self.order.code}"


class Rating(models.Model):
    """The customer's one rating of a delivered order: the merchant (stars, text), the driver (stars,
    tags)."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="rating", verbose_name=_("order")
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.CASCADE, related_name="ratings", verbose_name=_("merchant")
    )
    merchant_stars = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)], verbose_name=_("merchant stars")
    )
    merchant_text = models.CharField(max_length=1000, blank=True, verbose_name=_("merchant text"))
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="driver_ratings",
        verbose_name=_("driver"),
    )
    driver_stars = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        verbose_name=_("driver stars"),
    )
    driver_tags = models.JSONField(default=list, blank=True, verbose_name=_("driver tags"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(merchant_stars__gte=1, merchant_stars__lte=5), name="rating_merchant_stars"
            ),
            models.CheckConstraint(
                condition=Q(driver_stars__isnull=True) | Q(driver_stars__gte=1, driver_stars__lte=5),
                name="rating_driver_stars",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.merchant_stars}/{self.driver_stars}"
