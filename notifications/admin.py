from django.contrib import admin

from notifications.models import DeliveryAttempt, Notification, NotificationPreference


class DeliveryAttemptInline(admin.TabularInline[DeliveryAttempt, Notification]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "target", "status", "attempts", "last_error", "sent_at"]
    fields = ["channel", "target", "status", "attempts", "last_error", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = ["id", "user", "kind", "title", "created_at", "read_at"]
    list_filter = ["kind", "category"]
    search_fields = ["user__phone", "title"]
    raw_id_fields = ["user"]
    readonly_fields = ["user", "kind", "category", "language", "title", "body", "data", "source_event_id"]
    inlines = [DeliveryAttemptInline]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin[NotificationPreference]):
    list_display = ["user", "order_updates", "marketing", "push", "email", "updated_at"]
    raw_id_fields = ["user"]
