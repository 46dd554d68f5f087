"""Ops views of drivers, the dispatch pool, offers and jobs (read-mostly: changes go through services)."""

from django.contrib import admin

from drivers.models import DispatchRequest, DriverProfile, Job, Offer


@admin.register(DriverProfile)
class DriverProfileAdmin(admin.ModelAdmin[DriverProfile]):
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
class JobAdmin(admin.ModelAdmin[Job]):
    list_display = ("pk", "order", "driver", "state", "pickup_eta", "dropoff_eta", "cash_collected_vnd")
    list_filter = ("state",)
    search_fields = ("driver__phone", "order__code")
    readonly_fields = [field.name for field in Job._meta.fields]
