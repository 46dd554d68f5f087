"""What a menu sheet would change: the sheet read into dishes, matched against the merchant's menu,
and the differences listed (to preview) and kept as writes (to apply).

Matching: a dish by its Dish ID (which must be one of this merchant's dishes), else by name among
the merchant's dishes; a category by name; an option group by name within its dish; an option by
name within its group. Names compare case-insensitively (`menu_sheet.name_key`).

What the sheet does not mention is the merchant's explicit choice (`Missing`): kept as it is (the
default, so a sheet of only the drinks changes only the drinks), hidden (dishes and options marked
sold out, nothing deleted, undone with one click), or deleted (dishes, option groups, options and
categories). The preview lists those rows under each choice before anything is written.

Order: the sheet's order becomes the menu's order (categories by first appearance, dishes within
their category, groups within their dish, options within their group). Positions are rewritten only
for a list whose order actually changed, so an export re-imports with no changes at all.

`fingerprint` hashes everything the plan depends on; the apply step recomputes it under lock and
refuses if it moved since the preview.
"""

import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.utils.translation import gettext as _

from loship.money import format_vnd
from merchants.menu_current import CurrentMenu, by_position
from merchants.menu_reader import RowError, SheetReader, WantedDish, WantedGroup
from merchants.menu_sheet import Sheet, format_flag, name_key
from merchants.models import MenuCategory, MenuItem, Option, OptionGroup


class Missing(enum.StrEnum):
    KEEP = "keep"
    HIDE = "hide"
    DELETE = "delete"


#: A write of the plan; `made` maps the plan's own keys ("category:<key>", "dish:<row>", ...) to the
#: ids of rows created earlier in the same apply.
Write = Callable[[dict[str, int]], None]


class Action(enum.StrEnum):
    CREATE = "create"
    CHANGE = "change"
    REORDER = "reorder"
    HIDE = "hide"
    DELETE = "delete"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Change:
    action: Action
    what: str
    name: str
    details: tuple[str, ...] = ()


@dataclass(slots=True)
class Plan:
    """What applying the sheet would do: `changes` to show, `writes` to run (in order), `errors` that
    forbid both."""

    errors: list[RowError]
    ignored_columns: list[str]
    changes: list[Change] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(change.action != Action.KEEP for change in self.changes)

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = defaultdict(int)
        for change in self.changes:
            counted[change.action.value] += 1
        return dict(counted)

    def apply(self) -> None:
        made: dict[str, int] = {}
        for write in self.writes:
            write(made)


def _given(value: Any, otherwise: Any) -> Any:
    return otherwise if value is None else value


def _diff(label: str, before: Any, after: Any, show: Callable[[Any], str] = str) -> list[str]:
    return [f"{label}: {show(before)} → {show(after)}"] if before != after else []


def _needs_renumber(rows: Sequence[Any | None]) -> bool:
    """A list needs new positions if it gains a row (None) or its sheet order is not its current one."""
    existing = [row for row in rows if row is not None]
    return len(existing) != len(rows) or existing != sorted(existing, key=by_position)


def _reordered(rows: Sequence[Any | None]) -> bool:
    """Whether a customer would see a new order: rows swapped, or a new row (None) placed before an
    existing one (new rows at the end only extend the list)."""
    existing = [row for row in rows if row is not None]
    first_new = next((index for index, row in enumerate(rows) if row is None), len(rows))
    return existing != sorted(existing, key=by_position) or any(row is not None for row in rows[first_new:])


def _set_positions(model: type[Model], pks: Sequence[int]) -> Write:
    def write(made: dict[str, int]) -> None:
        for position, pk in enumerate(pks):
            model._default_manager.filter(pk=pk).exclude(position=position).update(position=position)

    return write


@dataclass(slots=True)
class _Planner:
    current: CurrentMenu
    merchant_id: int
    missing: Missing
    plan: Plan
    missing_categories: list[MenuCategory] = field(default_factory=list)

    def add(self, action: Action, what: str, name: str, details: Sequence[str] = ()) -> None:
        self.plan.changes.append(Change(action, what, name, tuple(details)))

    def write(self, write: Write) -> None:
        self.plan.writes.append(write)

    def categories(self, wanted: list[str]) -> None:
        existing = {name_key(category.name): category for category in self.current.categories}
        matched: list[MenuCategory | None] = []
        for position, name in enumerate(wanted):
            category = existing.pop(name_key(name), None)
            matched.append(category)
            key = f"category:{name_key(name)}"
            if category is None:
                self.add(Action.CREATE, _("Category"), name)
                self.write(
                    _create(key, MenuCategory, merchant_id=self.merchant_id, name=name, position=position)
                )
                continue
            self.write(_known(key, category.pk))
            if category.name != name:
                self.add(Action.CHANGE, _("Category"), name, _diff(_("name"), category.name, name))
                self.write(_update(category, name=name))
        if _needs_renumber(matched) and any(matched):
            if _reordered(matched):
                self.add(Action.REORDER, _("Order of the categories"), "")
            left = [category.pk for category in self.current.categories if category in existing.values()]
            self.write(_renumber(MenuCategory, [f"category:{name_key(name)}" for name in wanted], left))
        self.missing_categories = list(existing.values())

    def missing_rows(self, what: str, rows: Sequence[Any], *, hideable: bool) -> None:
        for row in rows:
            if self.missing == Missing.DELETE:
                self.add(Action.DELETE, what, row.name)
                self.write(_delete(row))
            elif self.missing == Missing.HIDE and hideable and row.is_available:
                self.add(Action.HIDE, what, row.name)
                self.write(_update(row, is_available=False))
            else:
                self.add(Action.KEEP, what, row.name)

    def dishes(self, wanted: list[WantedDish]) -> None:
        names = {category.pk: category.name for category in self.current.categories}
        lists: dict[str, list[tuple[WantedDish, MenuItem | None]]] = defaultdict(list)
        for dish in wanted:
            item = dish.match
            before = names.get(item.category_id or 0, "") if item else ""
            category_name = before if dish.category is None else dish.category
            category_key = name_key(category_name)
            lists[category_key].append((dish, item))
            dish_key = f"dish:{dish.row}"
            fields = {
                "name": dish.name,
                "description": _given(dish.description, item.description if item else ""),
                "price_vnd": dish.price_vnd,
                "is_available": _given(dish.is_available, item.is_available if item else True),
            }
            if item is None:
                self.add(Action.CREATE, _("Dish"), dish.name, [format_vnd(dish.price_vnd)])
                self.write(
                    _create(
                        dish_key,
                        MenuItem,
                        merchant_id=self.merchant_id,
                        category=f"category:{category_key}" if category_key else None,
                        position=len(lists[category_key]) - 1,
                        **fields,
                    )
                )
            else:
                self.write(_known(dish_key, item.pk))
                moved = name_key(before) != category_key
                details = [
                    *(_diff(_("category"), before or "-", category_name or "-") if moved else []),
                    *_diff(_("name"), item.name, fields["name"]),
                    *_diff(_("description"), item.description, fields["description"]),
                    *_diff(_("price"), item.price_vnd, fields["price_vnd"], format_vnd),
                    *_diff(_("available"), item.is_available, fields["is_available"], format_flag),
                ]
                if details:
                    self.add(Action.CHANGE, _("Dish"), dish.name, details)
                    category = {"category": f"category:{category_key}" if category_key else None}
                    self.write(_update(item, **fields, **(category if moved else {})))
            self.groups(dish, item)
        for pairs in lists.values():
            items = [item for _dish, item in pairs]
            if _needs_renumber(items) and any(items) and _reordered(items):
                title = (
                    names.get(pairs[0][1].category_id or 0, "")
                    if pairs[0][1] and pairs[0][0].category is None
                    else pairs[0][0].category
                )
                self.add(Action.REORDER, _("Order of the dishes"), title or _("No category"))
            if _needs_renumber(items) and any(items):
                self.write(_renumber_dishes([f"dish:{dish.row}" for dish, _item in pairs]))
        seen = {dish.match.pk for dish in wanted if dish.match is not None}
        self.missing_rows(
            _("Dish"), [item for item in self.current.items if item.pk not in seen], hideable=True
        )

    def groups(self, dish: WantedDish, item: MenuItem | None) -> None:
        existing = {name_key(g.name): g for g in self.current.groups.get(item.pk, [])} if item else {}
        matched: list[OptionGroup | None] = []
        for position, wanted in enumerate(dish.groups):
            group = existing.pop(name_key(wanted.name), None)
            matched.append(group)
            required, minimum, maximum = wanted.settings()
            if (
                group is not None
                and (wanted.is_required, wanted.min_select, wanted.max_select) == (None,) * 3
            ):
                required, minimum, maximum = group.is_required, group.min_select, group.max_select
            key = f"group:{dish.row}:{position}"
            label = f"{dish.name} › {wanted.name}"
            fields = {
                "name": wanted.name,
                "is_required": required,
                "min_select": minimum,
                "max_select": maximum,
            }
            if group is None:
                self.add(Action.CREATE, _("Option group"), label)
                self.write(_create(key, OptionGroup, item=f"dish:{dish.row}", position=position, **fields))
            else:
                self.write(_known(key, group.pk))
                details = [
                    *_diff(_("name"), group.name, wanted.name),
                    *_diff(_("required"), group.is_required, required, format_flag),
                    *_diff(_("min"), group.min_select, minimum),
                    *_diff(_("max"), group.max_select, maximum),
                ]
                if details:
                    self.add(Action.CHANGE, _("Option group"), label, details)
                    self.write(_update(group, **fields))
            self.options(wanted, group, key, label)
        if _needs_renumber(matched) and any(matched):
            if _reordered(matched):
                self.add(Action.REORDER, _("Order of the option groups"), dish.name)
            left = [g.pk for g in existing.values()]
            self.write(
                _renumber(OptionGroup, [f"group:{dish.row}:{n}" for n in range(len(dish.groups))], left)
            )
        for group in existing.values():
            self.missing_group(group, f"{dish.name} › {group.name}")

    def missing_group(self, group: OptionGroup, label: str) -> None:
        if self.missing == Missing.HIDE:
            options = [option for option in self.current.options.get(group.pk, []) if option.is_available]
            self.missing_rows(
                _("Option"), [_Labelled(o, f"{label} › {o.name}") for o in options], hideable=True
            )
            return
        self.missing_rows(_("Option group"), [_Labelled(group, label)], hideable=False)

    def options(self, wanted: WantedGroup, group: OptionGroup | None, group_key: str, label: str) -> None:
        existing = {name_key(o.name): o for o in self.current.options.get(group.pk, [])} if group else {}
        matched: list[Option | None] = []
        for position, option_wanted in enumerate(wanted.options):
            option = existing.pop(name_key(option_wanted.name), None)
            matched.append(option)
            key = f"{group_key}:{position}"
            name = f"{label} › {option_wanted.name}"
            fields = {
                "name": option_wanted.name,
                "price_delta_vnd": option_wanted.price_delta_vnd,
                "is_available": _given(option_wanted.is_available, option.is_available if option else True),
            }
            if option is None:
                self.add(Action.CREATE, _("Option"), name, [f"+{format_vnd(option_wanted.price_delta_vnd)}"])
                self.write(_create(key, Option, group=group_key, position=position, **fields))
                continue
            self.write(_known(key, option.pk))
            details = [
                *_diff(_("name"), option.name, option_wanted.name),
                *_diff(_("extra price"), option.price_delta_vnd, option_wanted.price_delta_vnd, format_vnd),
                *_diff(_("available"), option.is_available, fields["is_available"], format_flag),
            ]
            if details:
                self.add(Action.CHANGE, _("Option"), name, details)
                self.write(_update(option, **fields))
        if _needs_renumber(matched) and any(matched):
            if _reordered(matched):
                self.add(Action.REORDER, _("Order of the options"), label)
            left = [o.pk for o in existing.values()]
            self.write(_renumber(Option, [f"{group_key}:{n}" for n in range(len(wanted.options))], left))
        self.missing_rows(
            _("Option"), [_Labelled(o, f"{label} › {o.name}") for o in existing.values()], hideable=True
        )


@dataclass(frozen=True, slots=True)
class _Labelled:
    """A row shown under a longer name (dish › group › option) in the preview."""

    row: Any
    name: str

    @property
    def is_available(self) -> bool:
        return bool(self.row.is_available)


def _unwrap(row: Any) -> Any:
    return row.row if isinstance(row, _Labelled) else row


def _resolve(made: dict[str, int], fields: dict[str, Any]) -> dict[str, Any]:
    """Foreign keys given as plan keys ("dish:12") become the ids of the rows made for them."""
    resolved = {}
    for name, value in fields.items():
        if name in {"category", "item", "group"}:
            resolved[f"{name}_id"] = made[value] if value is not None else None
        else:
            resolved[name] = value
    return resolved


def _create(key: str, model: type[Model], **fields: Any) -> Write:
    def write(made: dict[str, int]) -> None:
        row = model(**_resolve(made, fields))
        row.full_clean(validate_unique=False, validate_constraints=False)
        row.save()
        made[key] = row.pk

    return write


def _known(key: str, pk: int) -> Write:
    def write(made: dict[str, int]) -> None:
        made[key] = pk

    return write


def _update(row: Any, **fields: Any) -> Write:
    def write(made: dict[str, int]) -> None:
        target = _unwrap(row)
        for name, value in _resolve(made, fields).items():
            setattr(target, name, value)
        target.save(update_fields=list(_resolve(made, fields)))

    return write


def _delete(row: Any) -> Write:
    def write(made: dict[str, int]) -> None:
        _unwrap(row).delete()

    return write


def _renumber(model: type[Model], keys: list[str], left: list[int]) -> Write:
    def write(made: dict[str, int]) -> None:
        _set_positions(model, [made[key] for key in keys] + left)(made)

    return write


def _renumber_dishes(keys: list[str]) -> Write:
    """Dishes are ordered within their category; positions only need to rank them there."""
    return _renumber(MenuItem, keys, [])


def plan_menu(*, current: CurrentMenu, sheet: Sheet, merchant_id: int, missing: Missing) -> Plan:
    """The plan of applying `sheet` to `current` (nothing written)."""
    reader = SheetReader(current=current, columns=sheet.columns)
    reader.read(sheet.rows)
    plan = Plan(
        errors=sorted(reader.errors, key=lambda error: error.row), ignored_columns=sheet.ignored_columns
    )
    if plan.errors:
        return plan
    planner = _Planner(current=current, merchant_id=merchant_id, missing=missing, plan=plan)
    if "category" in sheet.columns:
        planner.categories(reader.categories)
    planner.dishes(reader.dishes)
    # Last, so the dishes moving out of a category it deletes have moved.
    planner.missing_rows(_("Category"), planner.missing_categories, hideable=False)
    return plan
