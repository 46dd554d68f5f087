"""Money in the admin as people read and type it: list columns, read-only fields and inputs in
`55.000 ₫`, inputs that accept `55.000`, `55000` or `55.000 ₫` (loship.money).

A money field is an integer model field named `*_vnd` (the house rule: money is VND in dong). Django
renders integers with `number_format` and has no per-field hook for list and read-only cells, so
`MoneyAdmin` swaps each money name for a display function of its own: in `list_display` and in the
read-only fields (whose form field is then excluded, as Django does for any read-only name).
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from loship.money import format_vnd, parse_vnd

#: The suffix of the display function that stands for money field `x_vnd` (`x_vnd__vnd`).
DISPLAY_SUFFIX = "__vnd"


def is_money_field(field: Any) -> bool:
    return isinstance(field, models.IntegerField) and field.name.endswith("_vnd")


class VndInput(forms.TextInput):
    """Shows the stored amount formatted (`55.000 ₫`); what comes back is parsed by `VndField`."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, int):
            return format_vnd(value)
        return super().format_value(value)


class VndField(forms.IntegerField):
    widget = VndInput
    default_error_messages = {"invalid": _("Enter an amount in dong, e.g. 55.000 or 55000.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("localize", None)
        kwargs.pop("step_size", None)
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # IntegerField asks for a number input (min, max, step); this one is text with a dong pattern.
        return {"inputmode": "numeric", "autocomplete": "off"}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        if isinstance(value, int):
            return value
        try:
            return parse_vnd(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def money_display(field: models.Field[Any, Any]) -> Callable[[Any], str]:
    """A list/read-only cell for `field`: titled with its verbose name, sorted by the field."""

    @admin.display(description=field.verbose_name, ordering=field.name)
    def cell(obj: Any) -> str:
        return format_vnd(getattr(obj, field.name))

    return cell


def _swapping_readonly(method: Callable[..., Sequence[Any]]) -> Callable[..., list[Any]]:
    @functools.wraps(method)
    def get_readonly_fields(self: "MoneyAdmin", request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._swap(method(self, request, obj))

    return get_readonly_fields


class MoneyAdmin:
    """Mixed into a ModelAdmin or an inline (before Django's class) whose model has money fields."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # An admin's own `get_readonly_fields` (often written without super()) is swapped as well.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("get_readonly_fields")
        if own is not None:
            cls.get_readonly_fields = _swapping_readonly(own)  # type: ignore[method-assign]

    def _money_fields(self) -> dict[str, models.Field[Any, Any]]:
        model: type[models.Model] = getattr(self, "model")  # noqa: B009 (set by Django's admin classes)
        return {f.name: f for f in model._meta.fields if is_money_field(f)}

    def __getattr__(self, name: str) -> Any:
        # Django looks display names up on the admin (`lookup_field`, the checks): `total_vnd__vnd`.
        if name.endswith(DISPLAY_SUFFIX):
            field = self._money_fields().get(name.removesuffix(DISPLAY_SUFFIX))
            if field is not None:
                return money_display(field)
        raise AttributeError(name)

    def _swap(self, names: Sequence[Any], only: set[str] | None = None) -> list[Any]:
        money = self._money_fields()
        return [
            f"{name}{DISPLAY_SUFFIX}"
            if isinstance(name, str) and name in money and (only is None or name in only)
            else name
            for name in names
        ]

    def _shown_read_only(self, request: HttpRequest, obj: Any) -> set[str]:
        """The money fields shown by their display function on this form (not as inputs)."""
        money = set(self._money_fields())
        if not money:
            return set()
        if obj is not None and not self.has_change_permission(request, obj):
            return money
        readonly = self.get_readonly_fields(request, obj)
        return {name.removesuffix(DISPLAY_SUFFIX) for name in readonly if name.endswith(DISPLAY_SUFFIX)}

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if is_money_field(db_field):
            return db_field.formfield(form_class=VndField, **kwargs)
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        names = super().get_list_display(request)  # type: ignore[misc]
        editable = set(getattr(self, "list_editable", ()))
        return self._swap(names, only=set(self._money_fields()) - editable)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return self._swap(super().get_readonly_fields(request, obj))  # type: ignore[misc]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[Any] | None:
        # A money field shown by its display function is no form field, under either name.
        shown = self._shown_read_only(request, obj)
        excluded = super().get_exclude(request, obj)  # type: ignore[misc]
        if not shown:
            return None if excluded is None else list(excluded)
        form_meta = getattr(getattr(self, "form", None), "_meta", None)
        base = excluded if excluded is not None else getattr(form_meta, "exclude", None) or ()
        return [*base, *sorted(shown), *sorted(self._swap(list(shown)))]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        shown = self._shown_read_only(request, obj)
        if not shown:
            return list(fieldsets)
        return [
            (
                name,
                {**options, "fields": list(dict.fromkeys(self._swap(options.get("fields", ()), only=shown)))},
            )
            for name, options in fieldsets
        ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        shown = self._shown_read_only(request, obj)
        if not shown:
            return fields
        # Without declared fields Django lists the form's fields, from which these are excluded.
        declared = bool(getattr(self, "fields", None))
        missing = [] if declared else [name for name in self._swap(sorted(shown)) if name not in fields]
        return list(dict.fromkeys([*self._swap(fields, only=shown), *missing]))
