"""Orders in the admin: ops see and steer every order; merchant staff see only their merchants' orders.

Nothing here writes order state directly: the actions call the services (a cancel refunds a paid order).
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from loship.admin_money import MoneyAdmin
from loship.errors import ApplicationError
from orders import services
from orders.models import (
    ActorRole,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    Promotion,
    PromotionRedemption,
    Rating,
    RefusedNotice,
    Tip,
)
from orders.selectors import orders_for_merchant_staff
from users.models import Role, User
from users.permissions import is_ops


def _is_ops(request: HttpRequest) -> bool:
    return is_ops(request.user)


def _is_merchant_staff(request: HttpRequest) -> bool:
    user = request.user
    return isinstance(user, User) and user.is_active and user.is_staff and user.has_role(Role.MERCHANT_STAFF)


class ReadOnlyInline(MoneyAdmin, admin.TabularInline[Any, Order]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        # Whoever may see the order (its admin scopes the queryset) sees its lines and timeline.
        return _is_ops(request) or _is_merchant_staff(request)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("name", "quantity", "unit_price_vnd", "line_total_vnd", "options", "note")
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = _("timeline")
    fields = ("version", "kind", "from_status", "to_status", "actor", "actor_role", "reason", "created_at")
    readonly_fields = fields
    ordering = ["version"]


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ("kind", "amount_vnd", "debit", "credit", "driver", "merchant", "reference", "created_at")
    readonly_fields = fields


class ScheduledFilter(admin.SimpleListFilter):
    """Upcoming scheduled orders (not yet released to the merchant), every scheduled one, or ASAP ones."""

    title = _("schedule")
    parameter_name = "schedule"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("upcoming", _("Upcoming (not released)")),
            ("scheduled", _("Scheduled")),
            ("asap", _("As soon as possible")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() == "upcoming":
            return queryset.filter(status=OrderStatus.SCHEDULED).order_by("scheduled_for", "id")
        if self.value() == "scheduled":
            return queryset.filter(scheduled_for__isnull=False)
        if self.value() == "asap":
            return queryset.filter(scheduled_for__isnull=True)
        return queryset


@admin.register(Order)
class OrderAdmin(MoneyAdmin, admin.ModelAdmin[Order]):
    list_display = [
        "code",
        "status",
        "merchant",
        "customer_phone",
        "total_vnd",
        "payment_method",
        "payment_status",
        "driver",
        "scheduled_for",
        "created_at",
    ]
    list_filter = [
        "status",
        ScheduledFilter,
        ("merchant", admin.RelatedOnlyFieldListFilter),
        "payment_method",
        "payment_status",
        "created_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["code", "customer_phone", "customer__phone"]
    list_select_related = ["merchant", "driver"]
    inlines = [OrderLineInline, OrderEventInline, LedgerEntryInline]
    actions = ["cancel_with_refund", "mark_delivery_failed"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        orders = super().get_queryset(request)
        if _is_ops(request):
            return orders
        assert isinstance(request.user, User)
        return orders.filter(pk__in=orders_for_merchant_staff(request.user).values("pk"))

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None) -> list[str]:
        return [field.name for field in Order._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request) or _is_merchant_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return _is_ops(request) or _is_merchant_staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return super().get_actions(request) if _is_ops(request) else {}

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        if _is_ops(request):
            return list(self.list_filter)
        return [name for name in self.list_filter if name != ("merchant", admin.RelatedOnlyFieldListFilter)]

    @admin.action(description=_("Cancel (ops): refunds a paid order"))
    def cancel_with_refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(
            request,
            queryset,
            lambda order: services.cancel_order(
                order_id=order.pk,
                actor=self._actor(request),
                by=ActorRole.OPS,
                reason="cancelled by ops (admin)",
            ),
        )

    @admin.action(description=_("Mark delivery failed (ops)"))
    def mark_delivery_failed(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(
            request,
            queryset,
            lambda order: services.mark_delivery_failed(
                order_id=order.pk, actor=self._actor(request), reason="marked failed by ops (admin)"
            ),
        )

    @staticmethod
    def _actor(request: HttpRequest) -> User:
        assert isinstance(request.user, User)
        return request.user

    def _apply(self, request: HttpRequest, queryset: QuerySet[Order], action: Any) -> None:
        done = 0
        for order in queryset:
            try:
                action(order)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"{order.code}: {error.message}", messages.WARNING)
        if done:
            self.message_user(request, _("%(count)d order(s) updated.") % {"count": done}, messages.SUCCESS)


class OpsOnlyAdmin(MoneyAdmin, admin.ModelAdmin[Any]):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_ops(request)


class ReadOnlyOpsAdmin(OpsOnlyAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Promotion)
class PromotionAdmin(OpsOnlyAdmin):
    list_display = ["code", "kind", "value", "max_discount_vnd", "used_count", "usage_limit", "merchant",
                    "funded_by", "starts_at", "ends_at", "is_active"]  # fmt: skip
    list_filter = ["kind", "funded_by", "is_active"]
    search_fields = ["code", "description"]
    readonly_fields = ["used_count", "created_at"]
    raw_id_fields = ["merchant"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_ops(request)


@admin.register(PromotionRedemption)
class PromotionRedemptionAdmin(ReadOnlyOpsAdmin):
    list_display = ["promotion", "order", "customer", "discount_vnd", "created_at", "released_at"]
    search_fields = ["promotion__code", "order__code"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyOpsAdmin):
    list_display = ["order", "provider", "provider_ref", "amount_vnd", "status", "created_at", "confirmed_at"]
    list_filter = ["provider", "status"]
    search_fields = ["order__code", "provider_ref"]


@admin.register(RefusedNotice)
class RefusedNoticeAdmin(ReadOnlyOpsAdmin):
    list_display = [
        "merchant_ref",
        "provider",
        "event_id",
        "reason",
        "expected_vnd",
        "received_vnd",
        "created_at",
    ]
    list_filter = ["provider", "reason"]
    search_fields = ["merchant_ref", "event_id"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyOpsAdmin):
    list_display = ["order", "driver", "merchant", "kind", "amount_vnd", "debit", "credit", "reference",
                    "created_at"]  # fmt: skip
    list_filter = ["kind", "debit", "credit"]
    search_fields = ["order__code", "driver__phone", "reference"]
    list_select_related = ["order", "driver", "merchant"]


@admin.register(Tip)
class TipAdmin(ReadOnlyOpsAdmin):
    list_display = ["order", "customer", "amount_vnd", "status", "created_at", "confirmed_at", "paid_out_at"]
    list_filter = ["status"]
    search_fields = ["order__code", "provider_ref"]


@admin.register(Rating)
class RatingAdmin(ReadOnlyOpsAdmin):
    list_display = ["order", "merchant", "merchant_stars", "driver", "driver_stars", "created_at"]
    list_filter = ["merchant_stars", "driver_stars"]
    search_fields = ["order__code"]
