"""A small real menu (two categories, options, one sold-out dish) and helpers that drive the admin's
menu sheet pages as a browser would: export, upload for a preview, apply the preview."""

import csv
import io
import re
from html import unescape
from typing import Any

from django.test import Client

from merchants.models import MenuCategory, MenuItem, Merchant, Option, OptionGroup


def make_sheet_menu(merchant: Merchant) -> dict[str, Any]:
    noodles = MenuCategory.objects.create(merchant=merchant, name="Phở", position=0)
    drinks = MenuCategory.objects.create(merchant=merchant, name="Đồ uống", position=1)
    pho = MenuItem.objects.create(
        merchant=merchant, category=noodles, name="Phở bò tái", description="Nước dùng 12 tiếng",
        price_vnd=55_000, position=0,
    )  # fmt: skip
    chicken = MenuItem.objects.create(
        merchant=merchant, category=noodles, name="Phở gà", price_vnd=50_000, position=1
    )
    tea = MenuItem.objects.create(
        merchant=merchant, category=drinks, name="Trà đá", price_vnd=5_000, position=0
    )
    coffee = MenuItem.objects.create(
        merchant=merchant,
        category=drinks,
        name="Cà phê sữa",
        price_vnd=25_000,
        is_available=False,
        position=1,
    )
    size = OptionGroup.objects.create(item=pho, name="Size", is_required=True, min_select=1, max_select=1)
    small = Option.objects.create(group=size, name="Nhỏ", price_delta_vnd=0, position=0)
    large = Option.objects.create(group=size, name="Lớn", price_delta_vnd=10_000, position=1)
    toppings = OptionGroup.objects.create(item=pho, name="Topping", min_select=0, max_select=2, position=1)
    egg = Option.objects.create(group=toppings, name="Trứng", price_delta_vnd=5_000, position=0)
    return {
        "noodles": noodles, "drinks": drinks, "pho": pho, "chicken": chicken, "tea": tea, "coffee": coffee,
        "size": size, "small": small, "large": large, "toppings": toppings, "egg": egg,
    }  # fmt: skip


def menu_snapshot(merchant: Merchant) -> list[tuple[Any, ...]]:
    """Every menu row of the merchant with every field, to compare before and after."""
    rows: list[tuple[Any, ...]] = []
    rows += MenuCategory.objects.filter(merchant=merchant).order_by("pk").values_list()
    rows += MenuItem.objects.filter(merchant=merchant).order_by("pk").values_list()
    rows += OptionGroup.objects.filter(item__merchant=merchant).order_by("pk").values_list()
    rows += Option.objects.filter(group__item__merchant=merchant).order_by("pk").values_list()
    return rows


def export(client: Client, merchant: Merchant, file_format: str) -> bytes:
    response = client.get(f"/admin/merchants/merchant/{merchant.pk}/menu/export.{file_format}")
    assert response.status_code == 200, response.status_code
    return bytes(response.content)


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def upload(client: Client, merchant: Merchant, content: bytes, name: str, missing: str = "keep") -> Any:
    sheet = io.BytesIO(content)
    sheet.name = name
    return client.post(
        f"/admin/merchants/merchant/{merchant.pk}/menu/import/", {"sheet": sheet, "missing": missing}
    )


def token_of(response: Any) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the preview has no apply form"
    return unescape(match.group(1))


def apply(client: Client, merchant: Merchant, token: str) -> Any:
    return client.post(f"/admin/merchants/merchant/{merchant.pk}/menu/import/", {"token": token}, follow=True)


def change_rows(response: Any) -> list[tuple[str, str]]:
    """(action, name) of each change the preview lists."""
    html = response.content.decode()
    found = re.findall(
        r'<tr class="change" data-action="(\w+)"><td>[^<]*</td><td class="change-name">([^<]*)</td>', html
    )
    return [(action, unescape(name)) for action, name in found]


def error_rows(response: Any) -> dict[int, str]:
    html = response.content.decode()
    found = re.findall(r'<tr data-row="(\d+)"><td>\d+</td><td>([^<]*)</td>', html)
    return {int(row): unescape(message) for row, message in found}
