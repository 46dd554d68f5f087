"""Drivers: profiles, the dispatch pool, offers (a bundle offered to one driver) and jobs (one order
carried by one driver, through the industry's states), with earnings and cash on delivery.

Invariants held by the database, not only by the code:
- an order is in at most one active job (`job_one_active_per_order`): one driver per order;
- a driver holds at most one active accepted offer, i.e. one bundle at a time (`offer_one_active_per_driver`);
- an order has one row in the dispatch pool (`DispatchRequest.order` is the primary key).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Vehicle(models.TextChoices):
    MOTORBIKE = "motorbike", _("Motorbike")
    BICYCLE = "bicycle", _("Bicycle")
    CAR = "car", _("Car")


class DriverProfile(models.Model):
    """A driver's vehicle and availability, the last known position (throttled copy of Redis) and the
    cash collected on delivery that the driver still owes the platform."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="driver_profile",
        verbose_name=_("user"),
    )
    vehicle = models.CharField(
        max_length=12, choices=Vehicle.choices, default=Vehicle.MOTORBIKE, verbose_name=_("vehicle")
    )
    plate = models.CharField(max_length=16, blank=True, verbose_name=_("plate"))
    phone = models.CharField(
        max_length=20, blank=True, help_text=_("Work phone shown to customers."), verbose_name=_("phone")
    )
    is_online = models.BooleanField(default=False, verbose_name=_("is online"))
    shift_ends_at = models.DateTimeField(null=True, blank=True, verbose_name=_("shift ends at"))
    last_lat = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("last lat")
    )
    last_lng = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True, verbose_name=_("last lng")
    )
    last_heading = models.FloatField(null=True, blank=True, verbose_name=_("last heading"))
    last_fix_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Device time of the saved fix."), verbose_name=_("last fix at")
    )
    cash_balance_vnd = models.BigIntegerField(
        default=0,
        help_text=_("Cash on delivery collected, not remitted."),
        verbose_name=_("cash balance vnd"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("driver profile")
        verbose_name_plural = _("driver profiles")
        indexes = [models.Index(fields=["is_online"], condition=Q(is_online=True), name="driver_online")]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_lat__isnull=True) | Q(last_lat__gte=-90, last_lat__lte=90),
                name="driver_last_lat_range",
            ),
            models.CheckConstraint(
                condition=Q(last_lng__isnull=True) | Q(last_lng__gte=-180, last_lng__lte=180),
                name="driver_last_lng_range",
            ),
        ]

    def __str__(self) -> str:
        return f"driver {self.user_id} ({'online' if self.is_online else 'offline'})"


class DispatchStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a driver")
    ASSIGNED = "assigned", _("Assigned")
    CLOSED = "closed", _("Closed")


class DispatchRequest(models.Model):
    """An order in the dispatch pool: from merchant acceptance until a driver has it (or it ends).

    `dispatchable_at` is when rounds start offering it, timed so a driver arrives near the ready time.
    """

    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="dispatch_request",
        verbose_name=_("order"),
    )
    status = models.CharField(
        max_length=10,
        choices=DispatchStatus.choices,
        default=DispatchStatus.WAITING,
        verbose_name=_("status"),
    )
    ready_at = models.DateTimeField(
        help_text=_("When the food is expected to be ready."), verbose_name=_("ready at")
    )
    dispatchable_at = models.DateTimeField(verbose_name=_("dispatchable at"))
    searching_since = models.DateTimeField(
        help_text=_("When it last entered the pool."), verbose_name=_("searching since")
    )
    search_radius_m = models.PositiveIntegerField(verbose_name=_("search radius m"))
    offers_made = models.PositiveIntegerField(default=0, verbose_name=_("offers made"))
    ops_alerted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ops alerted at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("dispatch request")
        verbose_name_plural = _("dispatch requests")
        indexes = [
            models.Index(
                fields=["dispatchable_at"],
                condition=Q(status=DispatchStatus.WAITING),
                name="dispatch_waiting_due",
            ),
        ]

    def __str__(self) -> str:
        return f"dispatch of order {self.order_id} ({self.status})"


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Offer(models.Model):
    """A bundle of one merchant's orders (in drop-off sequence) offered to one driver until `expires_at`.

    Once accepted the offer is the driver's current bundle until every job in it ends (`completed_at`).
    """

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers", verbose_name=_("driver")
    )
    order_ids = ArrayField(
        models.BigIntegerField(), help_text=_("In drop-off sequence."), verbose_name=_("order ids")
    )
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED, verbose_name=_("status")
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    pickup_eta = models.DateTimeField(null=True, blank=True, verbose_name=_("pickup eta"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Ops member who assigned by hand; empty for dispatch."),
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    responded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("responded at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status=OfferStatus.OFFERED), name="offer_open_expiry"
            ),
            models.Index(fields=["driver", "status"], name="offer_driver_status"),
            GinIndex(fields=["order_ids"], name="offer_order_ids"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["driver"],
                condition=Q(status=OfferStatus.ACCEPTED, completed_at__isnull=True),
                name="offer_one_active_per_driver",
            ),
            models.CheckConstraint(condition=Q(order_ids__len__gte=1), name="offer_has_orders"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} to {self.driver_id} ({self.status})"


class JobState(models.TextChoices):
    EN_ROUTE_TO_PICKUP = "en_route_to_pickup", _("En route to pickup")
    ARRIVED_AT_PICKUP = "arrived_at_pickup", _("Arrived at pickup")
    PICKED_UP = "picked_up", _("Picked up")
    EN_ROUTE_TO_DROPOFF = "en_route_to_dropoff", _("En route to drop-off")
    ARRIVED_AT_DROPOFF = "arrived_at_dropoff", _("Arrived at drop-off")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Delivery failed")
    CANCELLED = "cancelled", _("Cancelled (order cancelled or driver unassigned)")


ACTIVE_JOB_STATES = (
    JobState.EN_ROUTE_TO_PICKUP,
    JobState.ARRIVED_AT_PICKUP,
    JobState.PICKED_UP,
    JobState.EN_ROUTE_TO_DROPOFF,
    JobState.ARRIVED_AT_DROPOFF,
)
#: Jobs still heading to the merchant: they can be cancelled (order ended, driver unassigned).
BEFORE_PICKUP_JOB_STATES = (JobState.EN_ROUTE_TO_PICKUP, JobState.ARRIVED_AT_PICKUP)
#: Jobs whose food is in the driver's box: the customer sees the driver move.
CARRYING_JOB_STATES = (JobState.PICKED_UP, JobState.EN_ROUTE_TO_DROPOFF, JobState.ARRIVED_AT_DROPOFF)


class Job(models.Model):
    """One order carried by one driver, from acceptance to delivery (or failure, or cancellation)."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("offer"))
    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("driver")
    )
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="jobs", verbose_name=_("order")
    )
    sequence = models.PositiveSmallIntegerField(
        help_text=_("Drop-off position in the bundle, from 0."), verbose_name=_("sequence")
    )
    state = models.CharField(
        max_length=20, choices=JobState.choices, default=JobState.EN_ROUTE_TO_PICKUP, verbose_name=_("state")
    )
    pickup_eta = models.DateTimeField(null=True, blank=True, verbose_name=_("pickup eta"))
    dropoff_eta = models.DateTimeField(null=True, blank=True, verbose_name=_("dropoff eta"))
    distance_m = models.PositiveIntegerField(
        help_text=_("Road distance merchant -> customer, paid per km."), verbose_name=_("distance m")
    )
    base_pay_vnd = models.PositiveBigIntegerField(verbose_name=_("base pay vnd"))
    distance_pay_vnd = models.PositiveBigIntegerField(verbose_name=_("distance pay vnd"))
    cash_to_collect_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("cash to collect vnd"))
    cash_collected_vnd = models.PositiveBigIntegerField(default=0, verbose_name=_("cash collected vnd"))
    failure_reason = models.CharField(max_length=255, blank=True, verbose_name=_("failure reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    arrived_at_pickup_at = models.DateTimeField(null=True, blank=True, verbose_name=_("arrived at pickup at"))
    picked_up_at = models.DateTimeField(null=True, blank=True, verbose_name=_("picked up at"))
    arrived_at_dropoff_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("arrived at dropoff at")
    )
    ended_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ended at"))

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["offer_id", "sequence"]
        indexes = [
            models.Index(fields=["driver", "state"], name="job_driver_state"),
            models.Index(fields=["driver", "ended_at"], name="job_driver_ended"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(state__in=ACTIVE_JOB_STATES), name="job_one_active_per_order"
            ),
            models.UniqueConstraint(fields=["offer", "order"], name="job_order_once_per_offer"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: order {self.order_id} by {self.driver_id} ({self.state})"

    @property
    def earned_vnd(self) -> int:
        return self.base_pay_vnd + self.distance_pay_vnd if self.state == JobState.DELIVERED else 0


class SettlementMethod(models.TextChoices):
    HUB = "hub", _("Cash paid in at a hub")
    WALLET = "wallet", _("E-wallet top-up")


class SettlementStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


#: The gateway reference of a top-up's payment is this prefix and the settlement's id.
TOPUP_REF_PREFIX = "topup-"


class CashSettlement(models.Model):
    """Money a driver pays towards the cash on delivery they owe: cash paid in at a hub (recorded by ops,
    completed at once) or an e-wallet top-up (completed when the gateway confirms it).

    A completed settlement has lowered `DriverProfile.cash_balance_vnd` by `amount_vnd` and booked one
    ledger entry crediting the driver's cash account; `balance_after_vnd` is the balance it left.
    """

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cash_settlements",
        verbose_name=_("driver"),
    )
    method = models.CharField(max_length=8, choices=SettlementMethod.choices, verbose_name=_("method"))
    status = models.CharField(max_length=10, choices=SettlementStatus.choices, verbose_name=_("status"))
    amount_vnd = models.PositiveBigIntegerField(verbose_name=_("amount vnd"))
    balance_after_vnd = models.BigIntegerField(null=True, blank=True, verbose_name=_("balance after vnd"))
    hub = models.CharField(
        max_length=100, blank=True, help_text=_("Where the cash was paid in."), verbose_name=_("hub")
    )
    note = models.CharField(max_length=255, blank=True, verbose_name=_("note"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The ops member who took the cash."),
        verbose_name=_("recorded by"),
    )
    provider = models.CharField(max_length=20, blank=True, verbose_name=_("provider"))
    provider_ref = models.CharField(
        max_length=64, blank=True, help_text=_("The gateway's payment id."), verbose_name=_("provider ref")
    )
    pay_url = models.URLField(max_length=500, blank=True, verbose_name=_("pay url"))
    deeplink = models.CharField(max_length=500, blank=True, verbose_name=_("deeplink"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))

    class Meta:
        verbose_name = _("cash settlement")
        verbose_name_plural = _("cash settlements")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["driver", "-created_at", "-id"], name="settlement_driver_feed")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_vnd__gt=0), name="settlement_amount_positive"),
            models.CheckConstraint(
                condition=~Q(method="hub") | Q(status="completed"), name="settlement_hub_completed"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_ref"],
                condition=~Q(provider_ref=""),
                name="settlement_provider_ref",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount_vnd} VND from {self.driver_id} ({self.status})"

    @property
    def merchant_ref(self) -> str:
        return f"{TOPUP_REF_PREFIX}{self.pk}"
