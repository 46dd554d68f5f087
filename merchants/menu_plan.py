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
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from merchants.menu_sheet import Sheet, SheetRow, format_flag, format_vnd, name_key, parse_flag, parse_price
from merchants.models import MenuCategory, MenuItem, Option, OptionGroup

NAME_LIMITS = {"category": 80, "dish": 120, "group": 80, "option": 80}


class Missing(enum.StrEnum):
    KEEP = "keep"
    HIDE = "hide"
    DELETE = "delete"


# --- the menu as it is -----------------------------------------------------------------------------


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
            return sorted(queryset.select_for_update(of=("self",)).order_by("pk"), key=_by_position)
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


def _by_position(row: Any) -> tuple[int, int]:
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


# --- the menu the sheet describes ------------------------------------------------------------------


@dataclass(slots=True)
class WantedOption:
    row: int
    name: str
    price_delta_vnd: int
    is_available: bool | None


@dataclass(slots=True)
class WantedGroup:
    row: int
    name: str
    is_required: bool | None = None
    min_select: int | None = None
    max_select: int | None = None
    options: list[WantedOption] = field(default_factory=list)

    def settings(self) -> tuple[bool, int, int]:
        """(required, min, max) with blanks filled the way the admin form would."""
        minimum = self.min_select
        required = self.is_required if self.is_required is not None else bool(minimum)
        if minimum is None or (required and minimum < 1):
            minimum = 1 if required else 0
        maximum = self.max_select if self.max_select is not None else max(1, minimum)
        return required, minimum, maximum


@dataclass(slots=True)
class WantedDish:
    row: int
    dish_id: int | None
    #: None: the sheet has no category column, so the dish stays where it is.
    category: str | None
    name: str
    #: None: the sheet has no such column (or the cell is blank), so the dish keeps what it has.
    description: str | None
    price_vnd: int
    is_available: bool | None
    groups: list[WantedGroup] = field(default_factory=list)
    match: MenuItem | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    message: str


@dataclass(slots=True)
class _Reader:
    """Turns sheet rows into wanted dishes, collecting one error per bad row."""

    current: CurrentMenu
    columns: frozenset[str]
    errors: list[RowError] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    dishes: list[WantedDish] = field(default_factory=list)
    #: Dish IDs and name keys of dish rows refused: their option rows say nothing more.
    refused: set[str] = field(default_factory=set)

    def error(self, row: SheetRow, message: str) -> None:
        self.errors.append(RowError(row=row.number, message=message))

    def name(self, row: SheetRow, key: str) -> str | None:
        value = " ".join(row.get(key).split())
        if len(value) > NAME_LIMITS[key]:
            self.error(
                row,
                _("The name “%(name)s” is longer than %(limit)s characters.")
                % {"name": value[:40] + "…", "limit": NAME_LIMITS[key]},
            )
            return None
        return value

    def read(self, rows: list[SheetRow]) -> None:
        dish_rows, option_rows = [], []
        for row in rows:
            category = self.name(row, "category")
            if category and name_key(category) not in {name_key(c) for c in self.categories}:
                self.categories.append(category)
            if row.get("price") or (row.get("dish") and not row.get("group") and not row.get("option")):
                dish_rows.append(row)
            if row.get("group") or row.get("option"):
                option_rows.append(row)
            elif not row.get("dish") and not row.get("price") and not category:
                self.error(row, _("The row names no category, dish or option."))
        for row in dish_rows:
            self.read_dish(row)
        self.match_dishes()
        for row in option_rows:
            self.read_option(row)

    def read_dish(self, row: SheetRow) -> None:
        errors = len(self.errors)
        self.read_dish_row(row)
        if len(self.errors) > errors:
            self.refused.update({row.get("dish_id"), name_key(row.get("dish"))} - {""})

    def read_dish_row(self, row: SheetRow) -> None:
        name = self.name(row, "dish")
        if name is None:
            return
        if not name:
            self.error(row, _("The dish has no name."))
            return
        category = (self.name(row, "category") or "") if "category" in self.columns else None
        if not row.get("price"):
            self.error(row, _("The dish “%(dish)s” has no price.") % {"dish": name})
            return
        dish_id = row.get("dish_id")
        if dish_id and not dish_id.isdigit():
            self.error(row, _("“%(value)s” is not a dish ID.") % {"value": dish_id})
            return
        try:
            price = parse_price(row.get("price"))
            available = parse_flag(row.get("available"), default=None)
        except ValueError as error:
            self.error(row, str(error))
            return
        self.dishes.append(
            WantedDish(
                row=row.number,
                dish_id=int(dish_id) if dish_id else None,
                category=category,
                name=name,
                description=row.get("description") if "description" in self.columns else None,
                price_vnd=price,
                is_available=available,
            )
        )

    def match_dishes(self) -> None:
        """Each wanted dish to its existing dish (by ID, else by name) or none (a new dish)."""
        existing = {item.pk: item for item in self.current.items}
        claimed: dict[int, WantedDish] = {}
        kept: list[WantedDish] = []
        for dish in self.dishes:
            if dish.dish_id is None:
                kept.append(dish)
                continue
            item = existing.get(dish.dish_id)
            if item is None:
                self.errors.append(
                    RowError(dish.row, _("No dish of this shop has the ID %(id)s.") % {"id": dish.dish_id})
                )
            elif dish.dish_id in claimed:
                self.errors.append(
                    RowError(
                        dish.row,
                        _("Duplicate dish: ID %(id)s is also on row %(other)s.")
                        % {"id": dish.dish_id, "other": claimed[dish.dish_id].row},
                    )
                )
            else:
                dish.match = item
                claimed[item.pk] = dish
                kept.append(dish)
        by_name: dict[str, list[MenuItem]] = defaultdict(list)
        for item in self.current.items:
            if item.pk not in claimed:
                by_name[name_key(item.name)].append(item)
        first_row: dict[str, WantedDish] = {}
        for dish in kept:
            key = name_key(dish.name)
            if dish.dish_id is None and key in first_row:
                self.errors.append(
                    RowError(
                        dish.row,
                        _("Duplicate dish: “%(dish)s” is also on row %(other)s.")
                        % {"dish": dish.name, "other": first_row[key].row},
                    )
                )
                continue
            first_row.setdefault(key, dish)
            if dish.dish_id is None:
                candidates = by_name.get(key, [])
                if len(candidates) > 1:
                    self.errors.append(
                        RowError(
                            dish.row,
                            _("Several dishes are named “%(dish)s”: give this one its Dish ID.")
                            % {"dish": dish.name},
                        )
                    )
                    continue
                dish.match = candidates[0] if candidates else None
        failed = {error.row for error in self.errors}
        for dish in self.dishes:
            if dish.row in failed:
                self.refused.update({str(dish.dish_id or ""), name_key(dish.name)} - {""})
        self.dishes = [dish for dish in kept if dish.row not in failed]

    def dish_of(self, row: SheetRow) -> WantedDish | None:
        dish_id, name = row.get("dish_id"), name_key(row.get("dish"))
        for dish in self.dishes:
            if dish_id and dish.dish_id is not None:
                if str(dish.dish_id) == dish_id:
                    return dish
            elif name and name_key(dish.name) == name:
                return dish
        return None

    def read_option(self, row: SheetRow) -> None:
        dish = self.dish_of(row)
        if dish is None:
            if {row.get("dish_id"), name_key(row.get("dish"))} & self.refused:
                return
            if not any(error.row == row.number for error in self.errors):
                self.error(
                    row,
                    _(
                        "The option names the dish “%(dish)s”, which has no row of its own "
                        "(with a price) in the sheet."
                    )
                    % {"dish": row.get("dish") or row.get("dish_id")},
                )
            return
        group_name = self.name(row, "group")
        if group_name is None:
            return
        if not group_name:
            self.error(row, _("The option “%(option)s” has no option group.") % {"option": row.get("option")})
            return
        group = next((g for g in dish.groups if name_key(g.name) == name_key(group_name)), None)
        if group is None:
            group = WantedGroup(row=row.number, name=group_name)
            dish.groups.append(group)
        try:
            required = parse_flag(row.get("required"), default=False) if row.get("required") else None
            minimum = _count(row.get("min"))
            maximum = _count(row.get("max"))
        except ValueError as error:
            self.error(row, str(error))
            return
        for attribute, value in (("is_required", required), ("min_select", minimum), ("max_select", maximum)):
            if value is None:
                continue
            before = getattr(group, attribute)
            if before is not None and before != value:
                self.error(
                    row,
                    _("The option group “%(group)s” has different settings on row %(other)s.")
                    % {"group": group.name, "other": group.row},
                )
                return
            setattr(group, attribute, value)
        required_, minimum_, maximum_ = group.settings()
        if maximum_ < 1 or minimum_ > maximum_:
            self.error(
                row,
                _("The option group “%(group)s” asks for at least %(min)s and at most %(max)s.")
                % {"group": group.name, "min": minimum_, "max": maximum_},
            )
            return
        option_name = self.name(row, "option")
        if not option_name:
            return
        if any(name_key(option.name) == name_key(option_name) for option in group.options):
            self.error(
                row,
                _("Duplicate option: “%(option)s” is already in “%(group)s”.")
                % {"option": option_name, "group": group.name},
            )
            return
        try:
            price = parse_price(row.get("option_price") or "0")
            available = parse_flag(row.get("option_available"), default=None)
        except ValueError as error:
            self.error(row, str(error))
            return
        group.options.append(WantedOption(row.number, option_name, price, available))


def _count(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(_("“%(value)s” is not a whole number.") % {"value": text})
    return int(text)


# --- the differences -------------------------------------------------------------------------------

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


def _vnd(amount: int) -> str:
    return f"{format_vnd(amount)} ₫"


def _diff(label: str, before: Any, after: Any, show: Callable[[Any], str] = str) -> list[str]:
    return [f"{label}: {show(before)} → {show(after)}"] if before != after else []


def _needs_renumber(rows: Sequence[Any | None]) -> bool:
    """A list needs new positions if it gains a row (None) or its sheet order is not its current one."""
    existing = [row for row in rows if row is not None]
    return len(existing) != len(rows) or existing != sorted(existing, key=_by_position)


def _reordered(rows: Sequence[Any | None]) -> bool:
    """Whether a customer would see a new order: rows swapped, or a new row (None) placed before an
    existing one (new rows at the end only extend the list)."""
    existing = [row for row in rows if row is not None]
    first_new = next((index for index, row in enumerate(rows) if row is None), len(rows))
    return existing != sorted(existing, key=_by_position) or any(row is not None for row in rows[first_new:])


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
                self.add(Action.CREATE, _("Dish"), dish.name, [_vnd(dish.price_vnd)])
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
                    *_diff(_("price"), item.price_vnd, fields["price_vnd"], _vnd),
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
                self.add(Action.CREATE, _("Option"), name, [f"+{_vnd(option_wanted.price_delta_vnd)}"])
                self.write(_create(key, Option, group=group_key, position=position, **fields))
                continue
            self.write(_known(key, option.pk))
            details = [
                *_diff(_("name"), option.name, option_wanted.name),
                *_diff(_("extra price"), option.price_delta_vnd, option_wanted.price_delta_vnd, _vnd),
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
    reader = _Reader(current=current, columns=sheet.columns)
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
