"""Menu sheet rows read into the dishes, option groups and options they describe, each dish matched
to the merchant's dish it means (by Dish ID, which must be this merchant's, else by name), with one
error per bad row, numbered as the spreadsheet numbers it.

A column the sheet leaves out, or a blank availability cell, is None here: the field keeps what it has.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from merchants.menu_current import CurrentMenu
from merchants.menu_sheet import SheetRow, name_key, parse_flag, parse_price
from merchants.models import MenuItem

NAME_LIMITS = {"category": 80, "dish": 120, "group": 80, "option": 80}


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
class SheetReader:
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
