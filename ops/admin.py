"""Capacity and headroom alerts in the admin (ops only); the dashboards live at /admin/ops/."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ops.models import Capacity, HeadroomAlert
from users.permissions import is_ops


class OpsReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_ops(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_ops(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Capacity)
class CapacityAdmin(OpsReadOnlyAdmin):
    """Written by `manage.py record_capacity` from the benchmark results."""

    list_display = ["figure", "limit", "source", "measured_at", "recorded_at"]


@admin.register(HeadroomAlert)
class HeadroomAlertAdmin(OpsReadOnlyAdmin):
    list_display = ["figure", "load", "peak_load", "limit", "opened_at", "closed_at", "notified_via"]
    list_filter = ["figure"]
