"""Merchants in the admin: ops see and edit everything; merchant staff see and edit only the merchants
they work for, and only these models.

Scoping is by membership (`StaffMembership`): every queryset is filtered to the staff's merchants, every
foreign-key choice too, and an object URL of another merchant is a 404 (a 403 where Django asks for a
permission on a known object). Owners and managers edit the profile, hours and menu; plain staff see
them and use the availability actions. Availability changes go through `merchants.services`, form
edits save rows directly and the cached merchant page follows through signals (`merchants.signals`).

A dish photo and a shop cover are uploaded on the dish's and the merchant's forms: the file is checked
and resized while the form is cleaned (`merchants.photos`), so a bad file is refused beside the field
with the reason, and stored through `services.set_dish_photo` / `set_cover_photo` once the row is saved.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Model, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from loship.admin_money import MoneyAdmin
from loship.errors import ApplicationError
from merchants import services
from merchants.admin_menu import MenuPages
from merchants.models import (
    MANAGING_ROLES,
    ClosedDate,
    Cuisine,
    FavouriteDish,
    FavouriteMerchant,
    MenuCategory,
    MenuItem,
    Merchant,
    OpeningHours,
    Option,
    OptionGroup,
    StaffMembership,
)
from merchants.photos import Limits, PreparedPhoto, prepare_photo, variant_urls
from users.models import Role, User
from users.permissions import is_ops


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active and user.is_staff else None


def _is_ops(request: HttpRequest) -> bool:
    return is_ops(_user(request))


def _roles(request: HttpRequest) -> dict[int, str]:
    """merchant id -> the staff member's role there, read once per request."""
    cached: dict[int, str] | None = getattr(request, "_merchant_roles", None)
    if cached is None:
        user = _user(request)
        cached = {}
        if user is not None and user.has_role(Role.MERCHANT_STAFF):
            cached = dict(StaffMembership.objects.filter(user=user).values_list("merchant_id", "role"))
        request._merchant_roles = cached  # type: ignore[attr-defined]
    return cached


def _managed_ids(request: HttpRequest) -> list[int]:
    return [merchant_id for merchant_id, role in _roles(request).items() if role in MANAGING_ROLES]


def merchant_id_of(obj: Model) -> int | None:
    """The merchant an object of these models belongs to."""
    if isinstance(obj, Merchant):
        return obj.pk
    if isinstance(obj, OptionGroup):
        return obj.item.merchant_id
    if isinstance(obj, Option):
        return obj.group.item.merchant_id
    return getattr(obj, "merchant_id", None)


class MerchantScoped:
    """Permission rules and foreign-key choices shared by the model admins and the inlines of the
    merchants app (`has_add_permission` differs in signature, so each side keeps its own)."""

    def _may_see(self, request: HttpRequest, obj: Model | None) -> bool:
        if _is_ops(request):
            return True
        roles = _roles(request)
        return bool(roles) and (obj is None or merchant_id_of(obj) in roles)

    def _may_manage(self, request: HttpRequest, obj: Model | None) -> bool:
        if _is_ops(request):
            return True
        managed = _managed_ids(request)
        return bool(managed) and (obj is None or merchant_id_of(obj) in managed)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_see(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_manage(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        choices = _scoped_choices(db_field.name, request)
        if choices is not None:
            kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]


#: Image links are typed without a scheme more often than not; assume https.
URL_FIELDS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ScopedModelAdmin(MoneyAdmin, MerchantScoped, admin.ModelAdmin[Any]):
    #: The lookup from this model to its merchant's id.
    merchant_lookup = "merchant_id"
    list_per_page = 50
    formfield_overrides = URL_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if _is_ops(request):
            return rows
        return rows.filter(**{f"{self.merchant_lookup}__in": list(_roles(request))})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_see(request, None)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may_manage(request, None)

    def _check_visible(self, request: HttpRequest, object_id: str | None) -> None:
        # Another merchant's object is not found, rather than Django's redirect to the index.
        if object_id is None:
            return
        try:
            pk = int(object_id)
        except ValueError:
            raise Http404 from None
        if not self.get_queryset(request).filter(pk=pk).exists():
            raise Http404

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        self._check_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        self._check_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        self._check_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)


def _scoped_choices(field_name: str, request: HttpRequest) -> QuerySet[Any] | None:
    """What a staff member may pick for a foreign key: rows of the merchants they manage."""
    if _is_ops(request):
        return None
    managed = _managed_ids(request)
    return {
        "merchant": Merchant.objects.filter(pk__in=managed),
        "category": MenuCategory.objects.filter(merchant_id__in=managed),
        "item": MenuItem.objects.filter(merchant_id__in=managed),
        "group": OptionGroup.objects.filter(item__merchant_id__in=managed),
    }.get(field_name)


class ScopedInline(MoneyAdmin, MerchantScoped):
    """Inlines follow the parent: seen with it, edited by its owner or managers."""

    extra = 0
    formfield_overrides: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = URL_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._may_manage(request, obj)


class OpeningHoursFormSet(BaseInlineFormSet[OpeningHours, Merchant, Any]):
    """Refuses overlapping intervals across the week, as the tablet API does."""

    def clean(self) -> None:
        super().clean()
        intervals = [
            services.Interval(
                weekday=int(form.cleaned_data["weekday"]),
                opens_at=form.cleaned_data["opens_at"],
                closes_at=form.cleaned_data["closes_at"],
            )
            for form in self.forms
            if form.cleaned_data and not form.errors and not form.cleaned_data.get("DELETE")
        ]
        try:
            services.check_intervals(intervals)
        except ApplicationError as error:
            raise ValidationError(error.message) from None


class OpeningHoursInline(ScopedInline, admin.TabularInline[OpeningHours, Merchant]):
    model = OpeningHours
    formset = OpeningHoursFormSet
    fields = ["weekday", "opens_at", "closes_at"]


class ClosedDateInline(ScopedInline, admin.TabularInline[ClosedDate, Merchant]):
    model = ClosedDate
    fields = ["date", "reason"]


class MenuCategoryInline(ScopedInline, admin.TabularInline[MenuCategory, Merchant]):
    model = MenuCategory
    fields = ["name", "position"]


class MenuItemInline(ScopedInline, admin.TabularInline[MenuItem, Merchant]):
    model = MenuItem
    fields = ["name", "category", "price_vnd", "is_available", "position"]
    show_change_link = True

    def get_formset(self, request: HttpRequest, obj: Merchant | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        # Each call builds a new form class, so narrowing its field touches no other request.
        field = formset.form.base_fields.get("category")
        if isinstance(field, forms.ModelChoiceField):
            field.queryset = MenuCategory.objects.filter(merchant=obj) if obj else MenuCategory.objects.none()
        return formset


class OptionGroupInline(ScopedInline, admin.TabularInline[OptionGroup, MenuItem]):
    model = OptionGroup
    fields = ["name", "is_required", "min_select", "max_select", "position"]
    show_change_link = True


class OptionInline(ScopedInline, admin.TabularInline[Option, OptionGroup]):
    model = Option
    fields = ["name", "price_delta_vnd", "is_available", "position"]


class PhotoForm(forms.ModelForm[Any]):
    """A photo upload beside the model's fields. The file is checked, cleaned and resized here, so a
    bad one is refused with the reason next to the field; `PhotoAdmin.save_model` stores it."""

    photo_upload = forms.FileField(
        required=False,
        label=_("Upload a photo"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(required=False, label=_("Remove the uploaded photo"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = Limits.from_settings()
        self.fields["photo_upload"].help_text = _(
            "JPEG, PNG or WebP, up to %(max_mb)s MB, at least %(min_side)s px on each side. Location and "
            "camera data are removed. An uploaded photo is shown instead of the image URL."
        ) % {"max_mb": limits.max_bytes // (1024 * 1024), "min_side": limits.min_side}

    def clean_photo_upload(self) -> PreparedPhoto | None:
        upload = self.cleaned_data.get("photo_upload")
        if not upload:
            return None
        try:
            return prepare_photo(upload, size=upload.size)
        except ApplicationError as error:
            raise ValidationError(error.message, code=error.code) from None


class PhotoAdmin(ScopedModelAdmin):
    """Stores the photo a `PhotoForm` prepared, after the row itself is saved, and shows the current one."""

    photo_variants_field = ""

    def set_photo(self, *, pk: int, photo: PreparedPhoto | None) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        photo = form.cleaned_data.get("photo_upload")
        if photo is not None or form.cleaned_data.get("remove_photo"):
            self.set_photo(pk=obj.pk, photo=photo)

    @admin.display(description=_("Current photo"))
    def photo_preview(self, obj: Model | None) -> str:
        urls = variant_urls(getattr(obj, self.photo_variants_field, None))
        if urls is None:
            return str(_("No photo uploaded"))
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" width="120" height="120" '
            'class="loship-photo-preview"></a>',
            urls["full"],
            urls["thumbnail"],
        )


class MerchantForm(PhotoForm):
    cuisines = forms.MultipleChoiceField(
        choices=Cuisine.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    cover_image_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Merchant
        fields = [
            "name", "slug", "description", "phone", "address", "cover_image_url", "lat", "lng",
            "delivery_radius_m", "cuisines", "price_level", "min_order_vnd", "prep_minutes", "is_busy",
            "is_active", "commission_bps",
        ]  # fmt: skip


def _set_busy_all(queryset: QuerySet[Merchant], *, is_busy: bool) -> None:
    """The busy switch for each selected merchant, in id order, through the service (lock + event)."""
    for merchant_id in queryset.order_by("pk").values_list("pk", flat=True):
        services.set_busy(merchant_id=merchant_id, is_busy=is_busy)


@admin.register(Merchant)
class MerchantAdmin(PhotoAdmin):
    merchant_lookup = "pk"
    form = MerchantForm
    photo_variants_field = "cover_photo_variants"
    change_form_template = "admin/merchants/merchant/change_form.html"
    list_display = [
        "name", "address", "price_level", "rating_avg", "rating_count", "is_busy", "is_active", "menu_link",
    ]  # fmt: skip
    list_filter = ["is_busy", "is_active", "price_level"]
    search_fields = ["name", "slug", "address", "search_text"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OpeningHoursInline, ClosedDateInline, MenuCategoryInline, MenuItemInline]
    actions = ["mark_busy", "mark_not_busy"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "phone", "address")}),
        (
            _("Cover photo"),
            {"fields": ("photo_preview", "photo_upload", "remove_photo", "cover_image_url")},
        ),
        (_("Location"), {"fields": ("lat", "lng", "delivery_radius_m")}),
        (_("Catalog"), {"fields": ("cuisines", "price_level", "min_order_vnd", "prep_minutes")}),
        (_("Status"), {"fields": ("is_busy", "is_active", "rating_avg", "rating_count")}),
        (_("Commission"), {"fields": ("commission_bps",)}),
    )

    def get_urls(self) -> list[URLPattern]:
        return [*MenuPages(self).urls(), *super().get_urls()]

    @admin.display(description=_("Menu"))
    def menu_link(self, merchant: Merchant) -> str:
        url = reverse("admin:merchants_merchant_menu", args=[merchant.pk])
        return format_html('<a class="menu-link" href="{}">{}</a>', url, _("Menu: import, export, order"))

    def get_readonly_fields(self, request: HttpRequest, obj: Merchant | None = None) -> list[str]:
        readonly = ["rating_avg", "rating_count", "photo_preview"]
        if not _is_ops(request):
            # The commission rate is agreed with ops: staff see it, only ops change it.
            readonly += ["slug", "is_active", "commission_bps"]
        return readonly

    def get_prepopulated_fields(self, request: HttpRequest, obj: Merchant | None = None) -> dict[str, Any]:
        return dict(self.prepopulated_fields) if _is_ops(request) else {}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)

    def set_photo(self, *, pk: int, photo: PreparedPhoto | None) -> None:
        services.set_cover_photo(merchant_id=pk, photo=photo)

    @admin.action(description=_("Mark busy / temporarily closed"))
    def mark_busy(self, request: HttpRequest, queryset: QuerySet[Merchant]) -> None:
        _set_busy_all(queryset, is_busy=True)
        self.message_user(request, _("Marked busy."), messages.SUCCESS)

    @admin.action(description=_("Open for orders again (not busy)"))
    def mark_not_busy(self, request: HttpRequest, queryset: QuerySet[Merchant]) -> None:
        _set_busy_all(queryset, is_busy=False)
        self.message_user(request, _("Taking orders again."), messages.SUCCESS)


class AvailabilityAdmin(ScopedModelAdmin):
    """Bulk "sold out" / "back in stock" for any staff role; the queryset is already scoped."""

    actions = ["mark_sold_out", "mark_back_in_stock"]

    def set_availability(self, *, ids: list[int], is_available: bool) -> int:
        raise NotImplementedError

    @admin.action(description=_("Mark sold out"))
    def mark_sold_out(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        changed = self.set_availability(ids=list(queryset.values_list("pk", flat=True)), is_available=False)
        self.message_user(request, _("%(count)d marked sold out.") % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Mark back in stock"))
    def mark_back_in_stock(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        changed = self.set_availability(ids=list(queryset.values_list("pk", flat=True)), is_available=True)
        self.message_user(request, _("%(count)d back in stock.") % {"count": changed}, messages.SUCCESS)


@admin.register(MenuItem)
class MenuItemAdmin(PhotoAdmin, AvailabilityAdmin):
    form = PhotoForm
    photo_variants_field = "photo_variants"
    readonly_fields = ["photo_preview"]
    list_display = ["name", "merchant", "category", "price_vnd", "is_available", "position"]
    list_filter = ["is_available"]
    list_select_related = ["merchant", "category"]
    search_fields = ["name", "search_text", "merchant__name"]
    inlines = [OptionGroupInline]
    fields = [
        "merchant",
        "category",
        "name",
        "description",
        "price_vnd",
        "photo_preview",
        "photo_upload",
        "remove_photo",
        "image_url",
        "is_available",
        "position",
    ]

    def set_photo(self, *, pk: int, photo: PreparedPhoto | None) -> None:
        services.set_dish_photo(item_id=pk, photo=photo)

    def set_availability(self, *, ids: list[int], is_available: bool) -> int:
        return services.set_items_availability(item_ids=ids, is_available=is_available)

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        if _is_ops(request) or len(_roles(request)) > 1:
            return ["is_available", ("merchant", admin.RelatedOnlyFieldListFilter)]
        return ["is_available"]

    def get_form(
        self, request: HttpRequest, obj: MenuItem | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        field = form.base_fields.get("category")
        if obj is not None and isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
            # The dish's own merchant's categories (a new dish's merchant is not known yet).
            field.queryset = field.queryset.filter(merchant_id=obj.merchant_id)
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        managed = _managed_ids(request)
        if "merchant" not in initial and len(managed) == 1 and not _is_ops(request):
            initial["merchant"] = managed[0]
        return initial


@admin.register(OptionGroup)
class OptionGroupAdmin(ScopedModelAdmin):
    merchant_lookup = "item__merchant_id"
    list_display = ["name", "item", "is_required", "min_select", "max_select"]
    list_select_related = ["item"]
    search_fields = ["name", "item__name"]
    inlines = [OptionInline]
    fields = ["item", "name", "is_required", "min_select", "max_select", "position"]


@admin.register(Option)
class OptionAdmin(AvailabilityAdmin):
    merchant_lookup = "group__item__merchant_id"
    list_display = ["name", "group", "item_name", "price_delta_vnd", "is_available"]
    list_filter = ["is_available"]
    list_select_related = ["group__item"]
    search_fields = ["name", "group__name", "group__item__name"]
    fields = ["group", "name", "price_delta_vnd", "is_available", "position"]

    def set_availability(self, *, ids: list[int], is_available: bool) -> int:
        return services.set_options_availability(option_ids=ids, is_available=is_available)

    @admin.display(description=_("item"))
    def item_name(self, option: Option) -> str:
        return option.group.item.name


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin[StaffMembership]):
    """Who works where: ops only."""

    list_display = ["user", "merchant", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__phone", "user__full_name", "merchant__name"]
    raw_id_fields = ["user", "merchant"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)


class FavouriteAdmin(admin.ModelAdmin[Any]):
    """Customers' saved merchants and dishes: ops may look (and remove one on a customer's request);
    customers change them through the API only."""

    list_display = ["user", "target", "created_at"]
    search_fields = ["user__phone"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("favourite"))
    def target(self, obj: Model) -> str:
        raise NotImplementedError

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_ops(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _is_ops(request)


@admin.register(FavouriteMerchant)
class FavouriteMerchantAdmin(FavouriteAdmin):
    list_select_related = ["user", "merchant"]
    search_fields = ["user__phone", "merchant__name"]

    @admin.display(description=_("merchant"), ordering="merchant__name")
    def target(self, obj: Model) -> str:
        assert isinstance(obj, FavouriteMerchant)
        return obj.merchant.name


@admin.register(FavouriteDish)
class FavouriteDishAdmin(FavouriteAdmin):
    list_select_related = ["user", "item", "item__merchant"]
    search_fields = ["user__phone", "item__name", "item__merchant__name"]

    @admin.display(description=_("dish"), ordering="item__name")
    def target(self, obj: Model) -> str:
        assert isinstance(obj, FavouriteDish)
        return f"{obj.item.name} ({obj.item.merchant.name})"
