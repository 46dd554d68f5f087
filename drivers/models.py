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


class Vehicle(models.TextChoices):
    MOTORBIKE = "motorbike", "Motorbike"
    BICYCLE = "bicycle", "Bicycle"
    CAR = "car", "Car"


class DriverProfile(models.Model):
    """A driver's vehicle and availability, the last known position (throttled copy of Redis) and the
    cash collected on delivery that the driver still owes the platform."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="driver_profile"
    )
    vehicle = models.CharField(max_length=12, choices=Vehicle.choices, default=Vehicle.MOTORBIKE)
    plate = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=20, blank=True, help_text="Work phone shown to customers.")
    is_online = models.BooleanField(default=False)
    shift_ends_at = models.DateTimeField(null=True, blank=True)
    last_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    last_heading = models.FloatField(null=True, blank=True)
    last_fix_at = models.DateTimeField(null=True, blank=True, help_text="Device time of the saved fix.")
    cash_balance_vnd = models.BigIntegerField(
        default=0, help_text="Cash on delivery collected, not remitted."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    WAITING = "waiting", "Waiting for a driver"
    ASSIGNED = "assigned", "Assigned"
    CLOSED = "closed", "Closed"


class DispatchRequest(models.Model):
    """An order in the dispatch pool: from merchant acceptance until a driver has it (or it ends).

    `dispatchable_at` is when rounds start offering it, timed so a driver arrives near the ready time.
    """

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, primary_key=True, related_name="dispatch_request"
    )
    status = models.CharField(max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.WAITING)
    ready_at = models.DateTimeField(help_text="When the food is expected to be ready.")
    dispatchable_at = models.DateTimeField()
    searching_since = models.DateTimeField(help_text="When it last entered the pool.")
    search_radius_m = models.PositiveIntegerField()
    offers_made = models.PositiveIntegerField(default=0)
    ops_alerted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Offer(models.Model):
    """A bundle of one merchant's orders (in drop-off sequence) offered to one driver until `expires_at`.

    Once accepted the offer is the driver's current bundle until every job in it ends (`completed_at`).
    """

    driver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers")
    order_ids = ArrayField(models.BigIntegerField(), help_text="In drop-off sequence.")
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    expires_at = models.DateTimeField()
    pickup_eta = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Ops member who assigned by hand; empty for dispatch.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
    EN_ROUTE_TO_PICKUP = "en_route_to_pickup", "En route to pickup"
    ARRIVED_AT_PICKUP = "arrived_at_pickup", "Arrived at pickup"
    PICKED_UP = "picked_up", "Picked up"
    EN_ROUTE_TO_DROPOFF = "en_route_to_dropoff", "En route to drop-off"
    ARRIVED_AT_DROPOFF = "arrived_at_dropoff", "Arrived at drop-off"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Delivery failed"
    CANCELLED = "cancelled", "Cancelled (order cancelled or driver unassigned)"


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

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="jobs")
    driver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="jobs")
    sequence = models.PositiveSmallIntegerField(help_text="Drop-off position in the bundle, from 0.")
    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.EN_ROUTE_TO_PICKUP)
    pickup_eta = models.DateTimeField(null=True, blank=True)
    dropoff_eta = models.DateTimeField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(help_text="Road distance merchant -> customer, paid per km.")
    base_pay_vnd = models.PositiveBigIntegerField()
    distance_pay_vnd = models.PositiveBigIntegerField()
    cash_to_collect_vnd = models.PositiveBigIntegerField(default=0)
    cash_collected_vnd = models.PositiveBigIntegerField(default=0)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    arrived_at_pickup_at = models.DateTimeField(null=True, blank=True)
    picked_up_at = models.DateTimeField(null=True, blank=True)
    arrived_at_dropoff_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
    HUB = "hub", "Cash paid in at a hub"
    WALLET = "wallet", "E-wallet top-up"


class SettlementStatus(models.TextChoices):
    PENDING = "pending", "Awaiting payment"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


#: The gateway reference of a top-up's payment is this prefix and the settlement's id.
TOPUP_REF_PREFIX = "topup-"


class CashSettlement(models.Model):
    """Money a driver pays towards the cash on delivery they owe: cash paid in at a hub (recorded by ops,
    completed at once) or an e-wallet top-up (completed when the gateway confirms it).

    A completed settlement has lowered `DriverProfile.cash_balance_vnd` by `amount_vnd` and booked one
    ledger entry crediting the driver's cash account; `balance_after_vnd` is the balance it left.
    """

    driver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cash_settlements"
    )
    method = models.CharField(max_length=8, choices=SettlementMethod.choices)
    status = models.CharField(max_length=10, choices=SettlementStatus.choices)
    amount_vnd = models.PositiveBigIntegerField()
    balance_after_vnd = models.BigIntegerField(null=True, blank=True)
    hub = models.CharField(max_length=100, blank=True, help_text="Where the cash was paid in.")
    note = models.CharField(max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The ops member who took the cash.",
    )
    provider = models.CharField(max_length=20, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True, help_text="The gateway's payment id.")
    pay_url = models.URLField(max_length=500, blank=True)
    deeplink = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
