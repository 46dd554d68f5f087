"""The merchant's menu as it is: loaded in four queries (locked, for an apply), fingerprinted, and
written out as menu sheet rows (`merchants.menu_sheet`) in the order customers see it.

The fingerprint hashes every field of every row an import could read or write, positions included,
so any change between a preview and its apply (another import, a form edit, a dish sold out) shows.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from merchants.models import MenuCategory, MenuItem, Option, OptionGroup


@dataclass(slots=True)
class CurrentMenu:
    """The merchant's menu rows, ordered as customers see them."""

    categories: list[MenuCategory]
    items: list[MenuItem]
    groups: dict[int, list[OptionGroup]]
    options: dict[int, list[Option]]

    def fingerprint(self) -> str:
        parts: list[Any] = [("c", c.pk, c.name, c.position) for c in self.categories]
        for item in self.items:
            parts.append(
                (
                    "i",
                    item.pk,
                    item.category_id,
                    item.name,
                    item.description,
                    item.price_vnd,
                    item.is_available,
                    item.position,
                )
            )
            for group in self.groups.get(item.pk, []):
                parts.append(
                    (
                        "g",
                        group.pk,
                        group.name,
                        group.is_required,
                        group.min_select,
                        group.max_select,
                        group.position,
                    )
                )
                for option in self.options.get(group.pk, []):
                    parts.append(
                        (
                            "o",
                            option.pk,
                            option.name,
                            option.price_delta_vnd,
                            option.is_available,
                            option.position,
                        )
                    )
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def ordered_items(self) -> list[MenuItem]:
        """Dishes by category (in category order), uncategorized last, each list by position."""
        rank = {category.pk: index for index, category in enumerate(self.categories)}
        return sorted(self.items, key=lambda item: rank.get(item.category_id or 0, len(rank)))


def load_menu(merchant_id: int, *, lock: bool = False) -> CurrentMenu:
    """The menu in four queries; with `lock`, every row is locked (in id order, table by table)."""

    def rows(queryset: QuerySet[Any]) -> list[Any]:
        if lock:
            return sorted(queryset.select_for_update(of=("self",)).order_by("pk"), key=by_position)
        return list(queryset.order_by("position", "pk"))

    categories = rows(MenuCategory.objects.filter(merchant_id=merchant_id))
    items = rows(MenuItem.objects.filter(merchant_id=merchant_id))
    groups: dict[int, list[OptionGroup]] = defaultdict(list)
    for group in rows(OptionGroup.objects.filter(item__merchant_id=merchant_id)):
        groups[group.item_id].append(group)
    options: dict[int, list[Option]] = defaultdict(list)
    for option in rows(Option.objects.filter(group__item__merchant_id=merchant_id)):
        options[option.group_id].append(option)
    return CurrentMenu(categories=categories, items=items, groups=dict(groups), options=dict(options))


def by_position(row: Any) -> tuple[int, int]:
    return (row.position, row.pk)


def export_rows(menu: CurrentMenu) -> list[dict[str, Any]]:
    """The menu as sheet rows (see `menu_sheet`): a dish row, then its groups' option rows."""
    rows: list[dict[str, Any]] = []
    names = {category.pk: category.name for category in menu.categories}
    seen_categories: set[int] = set()
    for item in menu.ordered_items():
        if item.category_id is not None:
            seen_categories.add(item.category_id)
        rows.append(
            {
                "dish_id": item.pk,
                "category": names.get(item.category_id, "") if item.category_id else "",
                "dish": item.name,
                "description": item.description,
                "price": item.price_vnd,
                "available": item.is_available,
            }
        )
        for group in menu.groups.get(item.pk, []):
            settings = {
                "dish_id": item.pk,
                "dish": item.name,
                "group": group.name,
                "required": group.is_required,
                "min": group.min_select,
                "max": group.max_select,
            }
            options = menu.options.get(group.pk, [])
            if not options:
                rows.append(settings)
            for option in options:
                rows.append(
                    {
                        **settings,
                        "option": option.name,
                        "option_price": option.price_delta_vnd,
                        "option_available": option.is_available,
                    }
                )
    # Categories without dishes, so a re-import under "delete what is missing" keeps them.
    empty = [category for category in menu.categories if category.pk not in seen_categories]
    rows.extend({"category": category.name} for category in empty)
    return rows
