"""Order chats in the admin, for ops settling a dispute: read-only, and only for ops (merchant staff,
whose admin shows their orders, never see a chat). Senders appear by side, never by phone."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chat.models import ChatMessage, ChatThread
from users.permissions import is_ops


class ChatMessageInline(admin.TabularInline[ChatMessage, ChatThread]):
    model = ChatMessage
    extra = 0
    can_delete = False
    fields = ("seq", "sender_role", "body", "masked", "created_at")
    readonly_fields = fields
    ordering = ["seq"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request.user)


@admin.register(ChatThread)
class ChatThreadAdmin(admin.ModelAdmin[ChatThread]):
    list_display = [
        "order_code",
        "order_status",
        "last_seq",
        "customer_read_seq",
        "driver_read_seq",
        "updated_at",
    ]
    search_fields = ["order__code"]
    list_select_related = ["order"]
    fields = (
        "order_code",
        "order_status",
        "last_seq",
        "customer_read_seq",
        "customer_read_at",
        "driver_read_seq",
        "driver_read_at",
        "created_at",
    )
    readonly_fields = fields
    inlines = [ChatMessageInline]
    show_full_result_count = False

    @admin.display(description=_("order"), ordering="order__code")
    def order_code(self, thread: ChatThread) -> str:
        return thread.order.code

    @admin.display(description=_("order status"))
    def order_status(self, thread: ChatThread) -> str:
        return thread.order.get_status_display()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ops(request.user)

    def has_view_permission(self, request: HttpRequest, obj: ChatThread | None = None) -> bool:
        return is_ops(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ChatThread | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ChatThread | None = None) -> bool:
        return False
