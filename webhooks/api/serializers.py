from typing import Any

from rest_framework import serializers

from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint


class EndpointInputSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES), min_length=1, max_length=len(EVENT_TYPES)
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointPatchSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_TYPES),
        min_length=1,
        max_length=len(EVENT_TYPES),
        required=False,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, help_text="true enables a disabled endpoint again.")


class EndpointOutputSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "merchant_id",
            "url",
            "events",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "consecutive_failures",
            "created_at",
        ]


class EndpointWithSecretSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(
        allow_null=True,
        help_text="The signing secret, in this answer only (null when a retried request replays it).",
    )

    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class DeliveryOutputSerializer(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint_id",
            "event_id",
            "topic",
            "order_id",
            "sequence",
            "status",
            "attempts",
            "response_code",
            "latency_ms",
            "last_error",
            "last_attempt_at",
            "next_attempt_at",
            "give_up_at",
            "delivered_at",
            "created_at",
        ]
