"""Ops views of drivers, the dispatch pool, offers and jobs (read-mostly: changes go through services),
and the cash drivers pay in at a hub (recorded here by ops, through the settlement service)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from drivers.models import CashSettlement, DispatchRequest, DriverProfile, Job, Offer
from drivers.services.cash import check_settlement_amount, settle_cash_at_hub
from loship.admin_money import MoneyAdmin
from loship.errors import ApplicationError
from users.models import Role, User
from users.permissions import is_ops


@admin.register(DriverProfile)
class DriverProfileAdmin(MoneyAdmin, admin.ModelAdmin[DriverProfile]):
    list_display = (
        "user",
        "vehicle",
        "plate",
        "is_online",
        "shift_ends_at",
        "last_fix_at",
        "cash_balance_vnd",
    )
    list_filter = ("is_online", "vehicle")
    search_fields = ("user__phone", "plate", "phone")
    readonly_fields = ("last_lat", "last_lng", "last_heading", "last_fix_at", "cash_balance_vnd")


@admin.register(DispatchRequest)
class DispatchRequestAdmin(admin.ModelAdmin[DispatchRequest]):
    list_display = (
        "order",
        "status",
        "ready_at",
        "dispatchable_at",
        "search_radius_m",
        "offers_made",
        "ops_alerted_at",
    )
    list_filter = ("status",)
    readonly_fields = [field.name for field in DispatchRequest._meta.fields]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin[Offer]):
    list_display = ("pk", "driver", "order_ids", "status", "created_at", "expires_at", "completed_at")
    list_filter = ("status",)
    search_fields = ("driver__phone",)
    readonly_fields = [field.name for field in Offer._meta.fields]


@admin.register(Job)
class JobAdmin(MoneyAdmin, admin.ModelAdmin[Job]):
    list_display = ("pk", "order", "driver", "state", "pickup_eta", "dropoff_eta", "cash_collected_vnd")
    list_filter = ("state",)
    search_fields = ("driver__phone", "order__code")
    readonly_fields = [field.name for field in Job._meta.fields]


class HubSettlementForm(forms.ModelForm[CashSettlement]):
    """Cash a driver hands in at a hub: who, how much, where. Refused as the API refuses it."""

    class Meta:
        model = CashSettlement
        fields = ["driver", "amount_vnd", "hub", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["driver"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            roles__contains=[Role.DRIVER], driver_profile__isnull=False
        ).order_by("phone")
        self.fields["hub"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        driver, amount = data.get("driver"), data.get("amount_vnd")
        if driver is not None and amount is not None:
            owed = (
                DriverProfile.objects.filter(pk=driver.pk).values_list("cash_balance_vnd", flat=True).first()
            )
            try:
                check_settlement_amount(amount, owed_vnd=owed or 0)
            except ApplicationError as refusal:
                raise forms.ValidationError({"amount_vnd": refusal.message}) from None
        return data


@admin.register(CashSettlement)
class CashSettlementAdmin(MoneyAdmin, admin.ModelAdmin[CashSettlement]):
    """Every settlement (hub and top-up) for ops to read; adding one records cash paid in at a hub.
    Settlements are never changed or deleted: a mistake is corrected by the ledger, not by an edit."""

    form = HubSettlementForm
    list_display = (
        "pk",
        "driver",
        "method",
        "status",
        "amount_vnd",
        "balance_after_vnd",
        "hub",
        "recorded_by",
        "created_at",
    )
    list_filter = ("method", "status")
    search_fields = ("driver__phone", "hub", "provider_ref")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ops(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_ops(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CashSettlement]:
        return super().get_queryset(request).select_related("driver", "recorded_by")

    def save_model(self, request: HttpRequest, obj: CashSettlement, form: Any, change: bool) -> None:
        assert isinstance(request.user, User) and not change
        settlement = settle_cash_at_hub(
            driver_id=obj.driver_id,
            amount_vnd=obj.amount_vnd,
            hub=obj.hub,
            note=obj.note,
            actor=request.user,
        )
        obj.pk = settlement.pk
        obj.refresh_from_db()
