"""A merchant's menu as one table, read from and written to CSV and XLSX.

One shape for both formats, so a CSV and an XLSX of the same menu say the same thing and either
re-imports unchanged: one row per dish (its category, name, description, price, availability), then
one row per option below it repeating the dish's id and name (its option group, the group's
required/min/max, the option's name, extra price and availability). A group without options has a
row of its own (no option name); a category without dishes too (no dish name). The Dish ID column
is what an export writes so a renamed dish stays the same dish; a hand-written sheet may leave it
empty, and dishes are then matched by name.

Headers are bilingual and fixed ("Giá / Price"): a sheet is data, not interface, so it does not
follow the admin's language, and either half of a header is accepted on import, in any case.

Prices are whole dong. A cell reads `55.000`, `55,000`, `55000`, `55.000 ₫` or an XLSX number;
a non-zero amount under 1.000 is refused as the likely typo it is (`55` for `55.000`).
"""

import csv
import io
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from loship.money import format_vnd, parse_vnd

#: The columns in export order: (key, header). The header's halves are also accepted alone.
COLUMNS: Sequence[tuple[str, str]] = (
    ("dish_id", "Mã món / Dish ID"),
    ("category", "Danh mục / Category"),
    ("dish", "Món / Dish"),
    ("description", "Mô tả / Description"),
    ("price", "Giá / Price"),
    ("available", "Còn bán / Available"),
    ("group", "Nhóm tùy chọn / Option group"),
    ("required", "Bắt buộc / Required"),
    ("min", "Chọn ít nhất / Min"),
    ("max", "Chọn nhiều nhất / Max"),
    ("option", "Tùy chọn / Option"),
    ("option_price", "Giá thêm / Extra price"),
    ("option_available", "Tùy chọn còn bán / Option available"),
)
COLUMN_KEYS = [key for key, _header in COLUMNS]
#: Columns an XLSX export writes as money.
PRICE_COLUMNS = frozenset({"price", "option_price"})

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
#: The smallest non-zero price accepted: anything less is a typo for thousands.
MIN_PRICE_VND = 1_000
MAX_PRICE_VND = 100_000_000

YES = frozenset({"có", "co", "yes", "y", "true", "1", "x", "còn", "con"})
NO = frozenset({"không", "khong", "no", "n", "false", "0", "hết", "het"})


class SheetError(Exception):
    """The file as a whole cannot be read (not CSV/XLSX, no header, too big)."""


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One non-blank row: its number as the spreadsheet shows it (header = 1) and its cells by key."""

    number: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclass(frozen=True, slots=True)
class Sheet:
    rows: list[SheetRow]
    ignored_columns: list[str]
    #: The keys of the columns the sheet has: a column left out leaves that field as it is.
    columns: frozenset[str] = frozenset(COLUMN_KEYS)


def name_key(name: str) -> str:
    """How two names are compared: Unicode-normalized, case-folded, runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _header_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for key, header in COLUMNS:
        for alias in (key, header, *header.split(" / ")):
            aliases[name_key(alias)] = key
    return aliases


_ALIASES = _header_aliases()


def parse_price(text: str) -> int:
    """Whole dong from what a person types; ValueError (with a message) otherwise."""
    try:
        amount = parse_vnd(text)
    except ValueError:
        amount = -1
    if amount < 0:
        raise ValueError(_("“%(value)s” is not a price in dong (write 55.000 or 55000).") % {"value": text})
    if 0 < amount < MIN_PRICE_VND:
        raise ValueError(
            _("%(value)s ₫ is too small for a price: did you mean %(value)s.000?") % {"value": amount}
        )
    if amount > MAX_PRICE_VND:
        raise ValueError(_("%(value)s ₫ is more than a dish may cost.") % {"value": format_price(amount)})
    return amount


def parse_flag(text: str, *, default: bool | None) -> bool | None:
    """Yes/no in Vietnamese or English (có/không, yes/no, 1/0, x); blank means `default`."""
    key = name_key(text)
    if not key:
        return default
    if key in YES:
        return True
    if key in NO:
        return False
    raise ValueError(_("“%(value)s” is not yes or no (write có or không).") % {"value": text})


def format_price(amount: int) -> str:
    """A sheet's price cell: 55000 -> "55.000" (loship.money, without the sign)."""
    return format_vnd(amount, symbol=False)


def format_flag(value: bool) -> str:
    return "có" if value else "không"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return format_flag(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_from_table(table: list[list[Any]]) -> Sheet:
    """The header maps columns to keys; each later non-blank row becomes a SheetRow."""
    while table and not any(_cell_text(cell) for cell in table[0]):
        table = table[1:]
    if not table:
        raise SheetError(_("The sheet is empty."))
    header = [_cell_text(cell) for cell in table[0]]
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for index, title in enumerate(header):
        key = _ALIASES.get(name_key(title))
        if key is None:
            if title:
                ignored.append(title)
            continue
        if key in columns.values():
            raise SheetError(_("The column “%(column)s” appears twice.") % {"column": title})
        columns[index] = key
    if "dish" not in columns.values():
        raise SheetError(_("The first row must name the columns; no “Món / Dish” column was found."))
    if len(table) - 1 > MAX_ROWS:
        raise SheetError(_("The sheet has more than %(count)s rows.") % {"count": MAX_ROWS})
    rows = []
    for offset, raw in enumerate(table[1:], start=2):
        cells = {key: _cell_text(raw[index]) for index, key in columns.items() if index < len(raw)}
        if any(cells.values()):
            rows.append(SheetRow(number=offset, cells=cells))
    return Sheet(rows=rows, ignored_columns=ignored, columns=frozenset(columns.values()))


def _read_csv(content: bytes) -> list[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SheetError(_("The CSV file is not UTF-8: save it as “CSV UTF-8”.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise SheetError(_("The file is not a readable XLSX workbook.")) from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def read_sheet(content: bytes, filename: str) -> Sheet:
    """The rows of an uploaded CSV or XLSX file (chosen by its extension)."""
    if len(content) > MAX_FILE_BYTES:
        raise SheetError(_("The file is larger than 5 MB."))
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        return _rows_from_table(_read_xlsx(content))
    if lowered.endswith(".csv"):
        return _rows_from_table(_read_csv(content))
    raise SheetError(_("Upload a .csv or .xlsx file."))


def write_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, which Excel needs to show Vietnamese; prices as plain digits,
    which every locale's Excel reads as numbers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for _key, header in COLUMNS])
    for row in rows:
        writer.writerow([_csv_cell(row.get(key)) for key in COLUMN_KEYS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return format_flag(value)
    return str(value)


def write_xlsx(rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    """One worksheet, header frozen and bold, prices as numbers shown as `55.000 ₫`."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31] or "Menu"
    sheet.append([header for _key, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(row.get(key)) for key in COLUMN_KEYS])
    for index, key in enumerate(COLUMN_KEYS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = {"dish": 32, "description": 40, "category": 20}.get(key, 16)
        if key in PRICE_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = '#,##0 "₫"'
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return format_flag(value)
    return value
