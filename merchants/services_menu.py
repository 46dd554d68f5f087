"""A whole menu written at once: a spreadsheet applied, or the categories and dishes reordered.

Both lock the merchant's row first, so two imports, or an import and a reorder, of one merchant run
one after the other, never interleaved; the import then locks every menu row it reads (id order,
table by table, the order the availability switches lock dishes in). Everything happens in one
transaction: an order placed meanwhile reads the menu as it was before or as it is after, never half.

A preview reads without locks and hands back the menu's fingerprint; applying recomputes it under the
locks and refuses if anything moved since (another import, a form edit, a dish sold out), because
the merchant approved that preview and not another.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from merchants.cache import invalidate_merchant
from merchants.errors import MerchantErrors
from merchants.menu_current import load_menu
from merchants.menu_plan import Missing, Plan, plan_menu
from merchants.menu_sheet import Sheet
from merchants.models import MenuCategory, MenuItem, Merchant
from merchants.services import record_menu_changed


@dataclass(frozen=True, slots=True)
class Preview:
    plan: Plan
    #: The menu's fingerprint when previewed; `apply_menu_sheet` wants it back.
    fingerprint: str


def preview_menu_sheet(*, merchant_id: int, sheet: Sheet, missing: Missing) -> Preview:
    """What applying `sheet` would change, and the fingerprint of the menu it was compared with."""
    current = load_menu(merchant_id)
    return Preview(
        plan=plan_menu(current=current, sheet=sheet, merchant_id=merchant_id, missing=missing),
        fingerprint=current.fingerprint(),
    )


def apply_menu_sheet(*, merchant_id: int, sheet: Sheet, missing: Missing, fingerprint: str) -> Plan:
    """Apply the previewed sheet whole, or nothing: refused if the menu changed since the preview or
    the sheet has errors."""
    with transaction.atomic():
        Merchant.objects.select_for_update().get(pk=merchant_id)
        current = load_menu(merchant_id, lock=True)
        if current.fingerprint() != fingerprint:
            raise MerchantErrors.MENU_CHANGED_SINCE_PREVIEW()
        plan = plan_menu(current=current, sheet=sheet, merchant_id=merchant_id, missing=missing)
        if plan.errors:
            raise MerchantErrors.MENU_SHEET_INVALID(extra={"rows": [error.row for error in plan.errors]})
        if plan.has_changes:
            plan.apply()
            record_menu_changed(merchant_id, imported=plan.counts())
            invalidate_merchant(merchant_id)
    return plan


def reorder_menu(*, merchant_id: int, category_ids: Sequence[int], item_ids: Sequence[int]) -> None:
    """Positions from the given orders (each a permutation of some of the merchant's categories or
    dishes); refused whole if an id is not the merchant's or appears twice."""
    with transaction.atomic():
        Merchant.objects.select_for_update().get(pk=merchant_id)
        for model, ids in ((MenuCategory, category_ids), (MenuItem, item_ids)):
            ids = list(ids)
            # Locked in id order, as the availability switches lock dishes, so the two never deadlock.
            owned = list(
                model._default_manager.select_for_update()
                .filter(merchant_id=merchant_id, pk__in=ids)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if len(set(ids)) != len(ids) or len(owned) != len(ids):
                raise MerchantErrors.MENU_ORDER_INVALID()
            for position, pk in enumerate(ids):
                model._default_manager.filter(pk=pk).exclude(position=position).update(position=position)
        record_menu_changed(merchant_id, reordered=True)
        invalidate_merchant(merchant_id)
