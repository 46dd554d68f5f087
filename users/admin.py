from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from users import services
from users.models import Address, Device, User


class AddressInline(admin.TabularInline[Address, User]):
    model = Address
    extra = 0


class DeviceInline(admin.TabularInline[Device, User]):
    model = Device
    extra = 0
    readonly_fields = ["created_at", "last_seen_at"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["phone", "full_name", "email", "roles", "is_active", "date_joined"]
    list_filter = ["is_active", "is_staff", "language"]
    search_fields = ["phone", "full_name", "email"]
    fieldsets = (
        (None, {"fields": ("phone", "password")}),
        (_("Profile"), {"fields": ("full_name", "email", "language", "roles")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("phone", "password1", "password2", "roles")}),)
    inlines = [AddressInline, DeviceInline]
    actions = ["unlock_login"]

    @admin.action(description=_("Unlock login (after too many wrong passwords)"))
    def unlock_login(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        services.unlock_login(phones=queryset.values_list("phone", flat=True))
        self.message_user(
            request, _("Login unlocked for %(count)d account(s).") % {"count": queryset.count()}
        )
