"""Input validation and the documented output shapes of the driver API."""

from rest_framework import serializers

from drivers.models import JobState, SettlementMethod, SettlementStatus, Vehicle
from drivers.services.jobs import DRIVER_STEPS
from drivers.services.profiles import MAX_FIXES_PER_BATCH
from users.api.serializers import StrictSerializer

# --- Input ---------------------------------------------------------------------------------------


class DriverProfileInputSerializer(StrictSerializer):
    vehicle = serializers.ChoiceField(choices=Vehicle.choices, required=False)
    plate = serializers.CharField(max_length=16, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)


class ShiftInputSerializer(StrictSerializer):
    shift_ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class JobStepInputSerializer(StrictSerializer):
    to = serializers.ChoiceField(choices=[(step, step) for step in DRIVER_STEPS])
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    delivery_code = serializers.RegexField(r"^\d{4}$", required=False, allow_null=True, default=None)
    cash_collected_vnd = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)


class FixInputSerializer(serializers.Serializer):
    """Validated by the service (each bad fix is rejected with its own code); described here."""

    lat = serializers.FloatField()
    lng = serializers.FloatField()
    timestamp = serializers.IntegerField(help_text="Device time, milliseconds since the epoch (UTC).")
    heading = serializers.FloatField(required=False, allow_null=True, help_text="Degrees, 0-360.")
    speed = serializers.FloatField(required=False, allow_null=True, help_text="Metres per second.")
    accuracy = serializers.FloatField(required=False, allow_null=True, help_text="Metres.")


class LocationBatchInputSerializer(StrictSerializer):
    fixes = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_FIXES_PER_BATCH)


class LocationBatchSchemaSerializer(serializers.Serializer):
    """The documented request body: `LocationBatchInputSerializer` leaves each fix to the service."""

    fixes = serializers.ListField(child=FixInputSerializer(), min_length=1, max_length=MAX_FIXES_PER_BATCH)


class OpsAssignInputSerializer(StrictSerializer):
    order_id = serializers.IntegerField(min_value=1)
    driver_id = serializers.IntegerField(min_value=1)


class OpsUnassignInputSerializer(StrictSerializer):
    order_id = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


# --- Output --------------------------------------------------------------------------------------


class DriverProfileOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    vehicle = serializers.ChoiceField(choices=Vehicle.choices)
    plate = serializers.CharField()
    phone = serializers.CharField()
    is_online = serializers.BooleanField()
    shift_ends_at = serializers.DateTimeField(allow_null=True)
    last_lat = serializers.CharField(allow_null=True)
    last_lng = serializers.CharField(allow_null=True)
    last_fix_at = serializers.DateTimeField(allow_null=True)
    cash_balance_vnd = serializers.IntegerField()


class OfferOutputSerializer(serializers.Serializer):
    offer_id = serializers.IntegerField()
    driver_id = serializers.IntegerField()
    order_ids = serializers.ListField(child=serializers.IntegerField())
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    pickup_eta = serializers.DateTimeField(allow_null=True)


class PlaceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False)
    address = serializers.CharField()
    lat = serializers.CharField()
    lng = serializers.CharField()
    note = serializers.CharField(required=False)
    customer_phone = serializers.CharField(required=False)


class JobOutputSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    offer_id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    driver_id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    state = serializers.ChoiceField(choices=JobState.choices)
    pickup_eta = serializers.DateTimeField(allow_null=True)
    dropoff_eta = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    order_code = serializers.CharField()
    order_status = serializers.CharField()
    merchant = PlaceOutputSerializer()
    delivery = PlaceOutputSerializer()
    distance_m = serializers.IntegerField()
    cash_to_collect_vnd = serializers.IntegerField()
    cash_collected_vnd = serializers.IntegerField()
    pay_vnd = serializers.IntegerField()


class CurrentJobOutputSerializer(serializers.Serializer):
    jobs = JobOutputSerializer(many=True)


class OffersOutputSerializer(serializers.Serializer):
    offers = OfferOutputSerializer(many=True)


class EarningLineOutputSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    state = serializers.CharField()
    ended_at = serializers.DateTimeField(allow_null=True)
    earned_vnd = serializers.IntegerField()
    tip_vnd = serializers.IntegerField(help_text="The customer's tip, once in the driver's earnings.")
    cash_collected_vnd = serializers.IntegerField()


class DailySummaryOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    distance_m = serializers.IntegerField()
    base_pay_vnd = serializers.IntegerField()
    distance_pay_vnd = serializers.IntegerField()
    tips_vnd = serializers.IntegerField(help_text="Tips that reached the driver's earnings this day.")
    earnings_vnd = serializers.IntegerField(help_text="Base and distance pay plus tips.")
    cash_collected_vnd = serializers.IntegerField()
    orders = EarningLineOutputSerializer(many=True)


class CashSettlementOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    method = serializers.ChoiceField(choices=SettlementMethod.choices)
    status = serializers.ChoiceField(choices=SettlementStatus.choices)
    amount_vnd = serializers.IntegerField()
    balance_after_vnd = serializers.IntegerField(allow_null=True, help_text="Cash owed once it completed.")
    hub = serializers.CharField(help_text="Where the cash was paid in (hub settlements).")
    pay_url = serializers.CharField(help_text="Where to pay (a pending top-up); empty otherwise.")
    deeplink = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class CashOutputSerializer(serializers.Serializer):
    cash_balance_vnd = serializers.IntegerField(help_text="Cash on delivery collected and not yet remitted.")
    cash_limit_vnd = serializers.IntegerField(help_text="Owing more than this, no cash orders are offered.")
    takes_cash_orders = serializers.BooleanField()
    cash_to_collect_vnd = serializers.IntegerField(help_text="Cash still to collect on the current jobs.")
    recent_settlements = CashSettlementOutputSerializer(many=True, help_text="The last five, newest first.")


class CashSettlementPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CashSettlementOutputSerializer(many=True)


class PageInputSerializer(StrictSerializer):
    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(min_value=1, max_value=100, required=False)


class TopUpInputSerializer(StrictSerializer):
    amount_vnd = serializers.IntegerField(help_text="Whole dong, at most the cash owed.")


class HubSettlementInputSerializer(StrictSerializer):
    amount_vnd = serializers.IntegerField(help_text="Whole dong paid in, at most the cash owed.")
    hub = serializers.CharField(max_length=100)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class RejectedFixOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField()


class LocationReportOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    ignored = serializers.IntegerField(help_text="Too old, or not newer than the last fix.")
    rejected = RejectedFixOutputSerializer(many=True)


class DriverOrderOutputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    code = serializers.CharField()
    status = serializers.CharField()
    merchant = PlaceOutputSerializer()
    delivery = PlaceOutputSerializer()
    customer_phone = serializers.CharField()
    total_vnd = serializers.IntegerField()
    payment_method = serializers.CharField()
