"""Menus from a spreadsheet in the admin: export, preview, apply, row errors, the choice for what the
sheet leaves out, a merchant only ever touching its own menu, and reordering by drag and drop."""

import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from loship.events.models import OutboxEvent
from merchants import services
from merchants.models import MenuCategory, MenuItem, Option, OptionGroup
from tests.merchants.factories import browser_for, make_merchant, make_ops, make_staff
from tests.merchants.menu_fixtures import (
    apply,
    change_rows,
    csv_bytes,
    csv_rows,
    error_rows,
    export,
    make_sheet_menu,
    menu_snapshot,
    token_of,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop() -> dict[str, Any]:
    merchant = make_merchant(name="Phở Cô Ba")
    return {
        "merchant": merchant,
        "menu": make_sheet_menu(merchant),
        "owner": make_staff(merchant, role="owner"),
    }


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(shop: dict[str, Any], file_format: str) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    before = menu_snapshot(merchant)
    content = export(client, merchant, file_format)

    preview = upload(client, merchant, content, f"menu.{file_format}", missing="delete")
    assert preview.status_code == 200
    assert 'id="no-changes"' in preview.content.decode()
    assert [action for action, _name in change_rows(preview)] == []
    apply(client, merchant, token_of(preview))
    assert menu_snapshot(merchant) == before


def test_export_reads_as_a_menu(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    rows = csv_rows(export(client, merchant, "csv"))
    assert rows[0][:6] == ["Mã món / Dish ID", "Danh mục / Category", "Món / Dish", "Mô tả / Description",
                           "Giá / Price", "Còn bán / Available"]  # fmt: skip
    dishes = [(row[1], row[2], row[4], row[5]) for row in rows[1:] if row[4]]
    assert dishes == [
        ("Phở", "Phở bò tái", "55000", "có"),
        ("Phở", "Phở gà", "50000", "có"),
        ("Đồ uống", "Trà đá", "5000", "có"),
        ("Đồ uống", "Cà phê sữa", "25000", "không"),
    ]
    options = [(row[2], row[6], row[10], row[11]) for row in rows[1:] if row[10]]
    assert options == [
        ("Phở bò tái", "Size", "Nhỏ", "0"),
        ("Phở bò tái", "Size", "Lớn", "10000"),
        ("Phở bò tái", "Topping", "Trứng", "5000"),
    ]
    workbook = load_workbook(io.BytesIO(export(client, merchant, "xlsx")))
    sheet = workbook.worksheets[0]
    assert sheet["E2"].value == 55_000 and "₫" in sheet["E2"].number_format
    assert sheet["A2"].value == menu["pho"].pk


def test_preview_lists_changes_and_apply_makes_them(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    rows = csv_rows(export(client, merchant, "csv"))
    pho_row = next(row for row in rows if row[2] == "Phở bò tái" and row[4])
    pho_row[4] = "60.000"  # price as people type it
    rows = [row for row in rows if row[2] != "Phở gà"]  # left out
    rows.append(["", "Bánh", "Bánh mì pate", "", "25.000", "", "", "", "", "", "", "", ""])
    rows.append(["", "", "Bánh mì pate", "", "", "", "Thêm", "", "0", "2", "Trứng ốp", "7000", ""])
    before = menu_snapshot(merchant)

    preview = upload(client, merchant, csv_bytes(rows), "menu.csv", missing="hide")
    assert preview.status_code == 200
    assert menu_snapshot(merchant) == before  # a preview writes nothing
    changes = change_rows(preview)
    assert ("create", "Bánh") in changes
    assert ("create", "Bánh mì pate") in changes
    assert ("create", "Bánh mì pate › Thêm") in changes
    assert ("create", "Bánh mì pate › Thêm › Trứng ốp") in changes
    assert ("change", "Phở bò tái") in changes
    assert ("hide", "Phở gà") in changes
    assert "55.000 ₫ → 60.000 ₫" in preview.content.decode()

    page = apply(client, merchant, token_of(preview))
    assert "Menu updated" in page.content.decode() or "Đã cập nhật" in page.content.decode()
    menu["pho"].refresh_from_db()
    menu["chicken"].refresh_from_db()
    assert menu["pho"].price_vnd == 60_000
    assert menu["chicken"].is_available is False
    banh_mi = MenuItem.objects.get(merchant=merchant, name="Bánh mì pate")
    assert banh_mi.category is not None and banh_mi.category.name == "Bánh" and banh_mi.price_vnd == 25_000
    extra = OptionGroup.objects.get(item=banh_mi)
    assert (extra.name, extra.is_required, extra.min_select, extra.max_select) == ("Thêm", False, 0, 2)
    assert list(extra.options.values_list("name", "price_delta_vnd")) == [("Trứng ốp", 7_000)]
    assert OutboxEvent.objects.filter(topic="merchant.menu_changed", aggregate_id=merchant.pk).exists()


def test_missing_rows_are_kept_unless_the_merchant_chooses(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    only_tea = csv_bytes([["Món / Dish", "Giá / Price"], ["Trà đá", "6000"]])

    kept = upload(client, merchant, only_tea, "tea.csv")
    assert ("keep", "Phở gà") in change_rows(kept)
    apply(client, merchant, token_of(kept))
    assert MenuItem.objects.filter(merchant=merchant).count() == 4
    assert MenuItem.objects.get(pk=menu["tea"].pk).price_vnd == 6_000
    # Columns the sheet does not have are left alone: the description and the sold-out switch.
    pho = MenuItem.objects.get(pk=menu["pho"].pk)
    assert pho.description == "Nước dùng 12 tiếng" and pho.option_groups.count() == 2

    # Without a category column the categories stay; with one, a category left out may go too.
    drinks_only = csv_bytes(
        [["Danh mục / Category", "Món / Dish", "Giá / Price"], ["Đồ uống", "Trà đá", "6000"]]
    )
    deleted = upload(client, merchant, drinks_only, "tea.csv", missing="delete")
    assert ("delete", "Phở gà") in change_rows(deleted)
    assert ("delete", "Phở") in change_rows(deleted)
    apply(client, merchant, token_of(deleted))
    assert list(MenuItem.objects.filter(merchant=merchant).values_list("name", flat=True)) == ["Trà đá"]
    assert list(MenuCategory.objects.filter(merchant=merchant).values_list("name", flat=True)) == ["Đồ uống"]
    assert not OptionGroup.objects.filter(item__merchant=merchant).exists()


def test_a_sheet_with_errors_applies_nothing_and_reports_each_bad_row(shop: dict[str, Any]) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    other = make_merchant()
    foreign = MenuItem.objects.create(merchant=other, name="Bún chả", price_vnd=40_000)
    header = ["Mã món / Dish ID", "Danh mục / Category", "Món / Dish", "Giá / Price", "Còn bán / Available",
              "Nhóm tùy chọn / Option group", "Tùy chọn / Option", "Giá thêm / Extra price"]  # fmt: skip
    rows = [
        header,
        ["", "Phở", "Phở đặc biệt", "70.000", "", "", "", ""],  # 2: fine
        ["", "Phở", "Phở tái nạm", "55.5", "", "", "", ""],  # 3: bad price
        ["", "Phở", "Phở chín", "55", "", "", "", ""],  # 4: 55 for 55.000
        [str(foreign.pk), "", "Bún chả", "40000", "", "", "", ""],  # 5: another shop's dish
        ["", "Phở", "Phở đặc biệt", "75000", "", "", "", ""],  # 6: duplicate of row 2
        ["", "", "Bánh cuốn", "", "", "Size", "Lớn", "5000"],  # 7: option of a dish with no row
        ["", "Đồ uống", "Nước cam", "30000", "chắc", "", "", ""],  # 8: not yes or no
        ["", "", "Phở đặc biệt", "", "", "Size", "Lớn", "abc"],  # 9: bad extra price
        ["", "", "Phở đặc biệt", "", "", "", "Nhỏ", "0"],  # 10: option without group
    ]
    before = menu_snapshot(merchant)
    preview = upload(client, merchant, csv_bytes(rows), "menu.csv")
    assert preview.status_code == 400
    errors = error_rows(preview)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "55.5" in errors[3]
    assert "55.000" in errors[4]
    assert str(foreign.pk) in errors[5]
    assert "row 2" in errors[6] or "dòng 2" in errors[6]
    assert 'name="token"' not in preview.content.decode()
    assert menu_snapshot(merchant) == before
    assert MenuItem.objects.get(pk=foreign.pk).price_vnd == 40_000


def test_prices_are_read_as_people_type_them(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    rows = [
        ["Món / Dish", "Giá / Price"],
        ["Trà đá", "7.000"],
        ["Phở gà", "52,000 ₫"],
        ["Phở bò tái", "58000"],
    ]
    apply(client, merchant, token_of(upload(client, merchant, csv_bytes(rows), "menu.csv")))
    prices = dict(MenuItem.objects.filter(merchant=merchant).values_list("pk", "price_vnd"))
    assert (prices[menu["tea"].pk], prices[menu["chicken"].pk], prices[menu["pho"].pk]) == (
        7_000,
        52_000,
        58_000,
    )


def test_apply_is_refused_if_the_menu_changed_since_the_preview(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    rows = [["Món / Dish", "Giá / Price"], ["Trà đá", "8000"]]
    preview = upload(client, merchant, csv_bytes(rows), "menu.csv")
    services.set_item_availability(item_id=menu["chicken"].pk, is_available=False)
    page = apply(client, merchant, token_of(preview))
    assert "preview" in page.content.decode().lower() or "xem trước" in page.content.decode()
    assert MenuItem.objects.get(pk=menu["tea"].pk).price_vnd == 5_000


def test_staff_of_one_merchant_cannot_touch_another_merchants_menu(shop: dict[str, Any]) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    other = make_merchant(name="Bún Chả Hương Liên")
    other_menu = make_sheet_menu(other)
    before = menu_snapshot(other)
    base = f"/admin/merchants/merchant/{other.pk}/menu"
    assert client.get(f"{base}/").status_code == 404
    assert client.get(f"{base}/export.csv").status_code == 404
    own_export = export(client, merchant, "csv")
    assert upload(client, other, own_export, "menu.csv").status_code == 404
    order = {"categories": [other_menu["drinks"].pk], "items": [other_menu["coffee"].pk]}
    assert (
        client.post(f"{base}/order/", json.dumps(order), content_type="application/json").status_code == 404
    )

    # A preview token made for one's own menu is refused on another's URL, even for ops.
    preview = upload(client, merchant, own_export, "menu.csv")
    ops = browser_for(make_ops())
    ops.post(f"{base}/import/", {"token": token_of(preview)})
    assert menu_snapshot(other) == before

    # Another merchant's dish ids in one's own sheet are refused row by row.
    foreign = csv_rows(export(ops, other, "csv"))
    refused = upload(client, merchant, csv_bytes(foreign), "menu.csv")
    assert refused.status_code == 400 and len(error_rows(refused)) == 4
    assert menu_snapshot(other) == before


def test_ops_may_import_into_any_menu_and_plain_staff_only_export(shop: dict[str, Any]) -> None:
    merchant, menu = shop["merchant"], shop["menu"]
    ops = browser_for(make_ops())
    rows = [["Món / Dish", "Giá / Price"], ["Trà đá", "9000"]]
    apply(ops, merchant, token_of(upload(ops, merchant, csv_bytes(rows), "menu.csv")))
    assert MenuItem.objects.get(pk=menu["tea"].pk).price_vnd == 9_000

    cashier = browser_for(make_staff(merchant, role="staff"))
    assert cashier.get(f"/admin/merchants/merchant/{merchant.pk}/menu/export.xlsx").status_code == 200
    assert upload(cashier, merchant, csv_bytes(rows), "menu.csv").status_code == 403


def test_a_file_that_is_not_a_sheet_is_refused_clearly(shop: dict[str, Any]) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    page = client.post(
        f"/admin/merchants/merchant/{merchant.pk}/menu/import/",
        {"sheet": _named(b"PK\x03\x04 broken", "menu.xlsx")},
        follow=True,
    )
    assert "XLSX" in page.content.decode()
    page = client.post(
        f"/admin/merchants/merchant/{merchant.pk}/menu/import/",
        {"sheet": _named(b"x", "menu.pdf")},
        follow=True,
    )
    assert ".csv" in page.content.decode()


def _named(content: bytes, name: str) -> io.BytesIO:
    sheet = io.BytesIO(content)
    sheet.name = name
    return sheet


@pytest.mark.django_db(transaction=True)
def test_reorder_saves_positions_and_the_merchant_page_follows(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    api = Client()
    assert [s["name"] for s in api.get(f"/api/v1/merchants/{merchant.pk}").json()["menu"]] == [
        "Phở",
        "Đồ uống",
    ]
    order = {
        "categories": [menu["drinks"].pk, menu["noodles"].pk],
        "items": [menu["coffee"].pk, menu["tea"].pk, menu["chicken"].pk, menu["pho"].pk],
    }
    response = client.post(
        f"/admin/merchants/merchant/{merchant.pk}/menu/order/",
        json.dumps(order),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    page = api.get(f"/api/v1/merchants/{merchant.pk}").json()
    assert [s["name"] for s in page["menu"]] == ["Đồ uống", "Phở"]
    assert [i["name"] for i in page["menu"][0]["items"]] == ["Cà phê sữa", "Trà đá"]
    assert [i["name"] for i in page["menu"][1]["items"]] == ["Phở gà", "Phở bò tái"]

    # An id of another merchant refuses the whole order.
    other = make_merchant()
    stranger = MenuItem.objects.create(merchant=other, name="Lạ", price_vnd=10_000)
    bad = {"categories": [menu["noodles"].pk, menu["drinks"].pk], "items": [stranger.pk, menu["pho"].pk]}
    response = client.post(
        f"/admin/merchants/merchant/{merchant.pk}/menu/order/",
        json.dumps(bad),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "menu_order_invalid"
    assert [s["name"] for s in api.get(f"/api/v1/merchants/{merchant.pk}").json()["menu"]] == [
        "Đồ uống",
        "Phở",
    ]


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_the_cached_merchant_page_stale(shop: dict[str, Any]) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    api = Client()
    api.get(f"/api/v1/merchants/{merchant.pk}")  # cached now
    rows = [["Món / Dish", "Giá / Price"], ["Trà đá", "12.000"]]
    apply(client, merchant, token_of(upload(client, merchant, csv_bytes(rows), "menu.csv")))
    drinks = api.get(f"/api/v1/merchants/{merchant.pk}").json()["menu"][1]["items"]
    assert (drinks[0]["name"], drinks[0]["price_vnd"]) == ("Trà đá", 12_000)


def test_the_menu_page_links_from_the_merchant(shop: dict[str, Any]) -> None:
    client, merchant = browser_for(shop["owner"]), shop["merchant"]
    change = client.get(f"/admin/merchants/merchant/{merchant.pk}/change/").content.decode()
    assert f"/admin/merchants/merchant/{merchant.pk}/menu/" in change
    page = client.get(f"/admin/merchants/merchant/{merchant.pk}/menu/").content.decode()
    assert 'id="category-list"' in page and "Phở bò tái" in page and 'id="save-order"' in page
    assert Option.objects.filter(group__item__merchant=merchant).count() == 3


def test_the_sheet_order_becomes_the_menu_order(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    rows = csv_rows(export(client, merchant, "csv"))
    tea = next(index for index, row in enumerate(rows) if row[2] == "Trà đá")
    rows[tea], rows[tea + 1] = rows[tea + 1], rows[tea]  # coffee above tea
    preview = upload(client, merchant, csv_bytes(rows), "menu.csv")
    assert change_rows(preview) == [("reorder", "Đồ uống")]
    apply(client, merchant, token_of(preview))
    drinks = MenuItem.objects.filter(category=menu["drinks"]).order_by("position", "pk")
    assert list(drinks.values_list("name", flat=True)) == ["Cà phê sữa", "Trà đá"]


def test_an_edited_xlsx_reads_number_cells_and_reports_its_rows(shop: dict[str, Any]) -> None:
    client, merchant, menu = browser_for(shop["owner"]), shop["merchant"], shop["menu"]
    workbook = load_workbook(io.BytesIO(export(client, merchant, "xlsx")))
    sheet = workbook.worksheets[0]
    names = {
        sheet.cell(row=n, column=3).value: n
        for n in range(2, sheet.max_row + 1)
        if sheet.cell(row=n, column=5).value
    }
    sheet.cell(row=names["Trà đá"], column=5).value = 6_000
    sheet.cell(row=names["Phở gà"], column=5).value = 52.0  # "52.000" typed where "." is the decimal point
    edited = io.BytesIO()
    workbook.save(edited)

    refused = upload(client, merchant, edited.getvalue(), "menu.xlsx")
    assert refused.status_code == 400
    assert list(error_rows(refused)) == [names["Phở gà"]]
    assert "52.000" in error_rows(refused)[names["Phở gà"]]

    sheet.cell(row=names["Phở gà"], column=5).value = 52_000
    edited = io.BytesIO()
    workbook.save(edited)
    preview = upload(client, merchant, edited.getvalue(), "menu.xlsx")
    assert sorted(change_rows(preview)) == [("change", "Phở gà"), ("change", "Trà đá")]
    apply(client, merchant, token_of(preview))
    assert MenuItem.objects.get(pk=menu["tea"].pk).price_vnd == 6_000
    assert MenuItem.objects.get(pk=menu["chicken"].pk).price_vnd == 52_000
