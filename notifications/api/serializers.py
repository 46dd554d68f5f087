from rest_framework import serializers

from notifications.models import Notification, NotificationPreference
from users.api.serializers import StrictSerializer


class NotificationOutputSerializer(serializers.ModelSerializer[Notification]):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "category", "title", "body", "data", "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_is_read(self, notification: Notification) -> bool:
        return notification.read_at is not None


class UnreadCountOutputSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkAllReadOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class PreferenceOutputSerializer(serializers.ModelSerializer[NotificationPreference]):
    class Meta:
        model = NotificationPreference
        fields = ["order_updates", "marketing", "push", "email"]
        read_only_fields = fields


class PreferenceInputSerializer(StrictSerializer):
    order_updates = serializers.BooleanField(required=False)
    marketing = serializers.BooleanField(required=False)
    push = serializers.BooleanField(required=False)
    email = serializers.BooleanField(required=False)
