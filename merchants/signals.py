"""Invalidate the cached merchant page on every save or delete of the merchant, its hours or its menu,
whoever writes (admin forms and inlines, services, shell). Bulk `update()`s bypass signals, so the
services that use them invalidate explicitly.

A deleted merchant or dish takes its photo's files with it, once the deletion commits."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete

from merchants.cache import invalidate_merchant
from merchants.models import (
    ClosedDate,
    MenuCategory,
    MenuItem,
    Merchant,
    OpeningHours,
    Option,
    OptionGroup,
)
from merchants.photos import delete_files


def _merchant_saved(sender: Any, instance: Merchant, **kwargs: Any) -> None:
    invalidate_merchant(instance.pk)


def _child_saved(
    sender: Any, instance: OpeningHours | ClosedDate | MenuCategory | MenuItem, **kwargs: Any
) -> None:
    invalidate_merchant(instance.merchant_id)


def _group_changed(sender: Any, instance: OptionGroup, **kwargs: Any) -> None:
    merchant_id = MenuItem.objects.filter(pk=instance.item_id).values_list("merchant_id", flat=True).first()
    if merchant_id is not None:
        invalidate_merchant(merchant_id)


def _option_changed(sender: Any, instance: Option, **kwargs: Any) -> None:
    merchant_id = (
        OptionGroup.objects.filter(pk=instance.group_id).values_list("item__merchant_id", flat=True).first()
    )
    if merchant_id is not None:
        invalidate_merchant(merchant_id)


def _photo_owner_deleted(sender: Any, instance: Merchant | MenuItem, **kwargs: Any) -> None:
    if isinstance(instance, Merchant):
        files = [instance.cover_photo.name, *instance.cover_photo_variants.values()]
    else:
        files = [instance.photo.name, *instance.photo_variants.values()]
    if any(files):
        transaction.on_commit(lambda: delete_files(files))


def connect() -> None:
    post_save.connect(_merchant_saved, sender=Merchant, dispatch_uid="merchants.page.merchant_saved")
    post_delete.connect(_merchant_saved, sender=Merchant, dispatch_uid="merchants.page.merchant_deleted")
    for model in (OpeningHours, ClosedDate, MenuCategory, MenuItem):
        name = model._meta.model_name
        post_save.connect(_child_saved, sender=model, dispatch_uid=f"merchants.page.{name}_saved")
        post_delete.connect(_child_saved, sender=model, dispatch_uid=f"merchants.page.{name}_deleted")
    # Groups and options reach their merchant through rows a cascade deletes, so deletions are
    # resolved before the rows go (pre_delete), saves after they exist.
    post_save.connect(_group_changed, sender=OptionGroup, dispatch_uid="merchants.page.group_saved")
    pre_delete.connect(_group_changed, sender=OptionGroup, dispatch_uid="merchants.page.group_deleted")
    post_save.connect(_option_changed, sender=Option, dispatch_uid="merchants.page.option_saved")
    pre_delete.connect(_option_changed, sender=Option, dispatch_uid="merchants.page.option_deleted")
    post_delete.connect(
        _photo_owner_deleted, sender=Merchant, dispatch_uid="merchants.photos.merchant_deleted"
    )
    post_delete.connect(
        _photo_owner_deleted, sender=MenuItem, dispatch_uid="merchants.photos.menuitem_deleted"
    )
