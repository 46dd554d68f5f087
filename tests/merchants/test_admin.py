"""Merchant staff in Django admin see and edit only their own merchant's rows and only these models;
ops see everything. Checked through the admin's own pages, as a browser would use them."""

from decimal import Decimal
from typing import Any

import pytest

from loship.events.models import OutboxEvent
from merchants.models import MenuCategory, MenuItem, Merchant, Option, OptionGroup
from tests.merchants.factories import (
    browser_for,
    make_group,
    make_item,
    make_merchant,
    make_ops,
    make_option,
    make_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two() -> dict[str, Any]:
    """Two merchants with a dish, a category, an option group and an option each, and their staff."""
    made: dict[str, Any] = {}
    for key, name in (("a", "Bánh Mì Huỳnh Hoa"), ("b", "Phở Thìn")):
        merchant = make_merchant(name=name)
        category = MenuCategory.objects.create(merchant=merchant, name=f"Món chính {key}")
        item = make_item(merchant, f"Món {key}", category=category)
        group = make_group(item, f"Size {key}")
        made[key] = {
            "merchant": merchant,
            "category": category,
            "item": item,
            "group": group,
            "option": make_option(group, f"Lớn {key}"),
            "manager": make_staff(merchant),
            "staff": make_staff(merchant, role="staff"),
        }
    return made


def merchant_post(merchant: Merchant, **overrides: Any) -> dict[str, Any]:
    """The merchant change form as a manager submits it, inlines left as they are."""
    data: dict[str, Any] = {
        "name": merchant.name,
        "description": merchant.description,
        "phone": merchant.phone,
        "address": merchant.address,
        "cover_image_url": "",
        "lat": str(merchant.lat),
        "lng": str(merchant.lng),
        "delivery_radius_m": merchant.delivery_radius_m,
        "cuisines": merchant.cuisines,
        "price_level": merchant.price_level,
        "min_order_vnd": merchant.min_order_vnd,
        "prep_minutes": merchant.prep_minutes,
    }
    for prefix in ("opening_hours", "closed_dates", "categories", "items"):
        data[f"{prefix}-TOTAL_FORMS"] = 0
        data[f"{prefix}-INITIAL_FORMS"] = 0
    data.update(overrides)
    return data


def item_post(item: MenuItem, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "merchant": item.merchant_id,
        "category": item.category_id or "",
        "name": item.name,
        "description": "",
        "price_vnd": item.price_vnd,
        "image_url": "",
        "is_available": "on",
        "position": 0,
        "option_groups-TOTAL_FORMS": 0,
        "option_groups-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


MODELS = ["merchant", "menuitem", "optiongroup", "option"]


def _obj(side: dict[str, Any], model: str) -> Any:
    keys = {"merchant": "merchant", "menuitem": "item", "optiongroup": "group", "option": "option"}
    return side[keys[model]]


@pytest.mark.parametrize("model", MODELS)
def test_changelists_show_only_their_own_merchant(two: dict[str, Any], model: str) -> None:
    page = browser_for(two["a"]["staff"]).get(f"/admin/merchants/{model}/")
    assert page.status_code == 200
    shown = {obj.pk for obj in page.context["cl"].result_list}
    assert shown == {_obj(two["a"], model).pk}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_merchants_object_pages_are_not_found(two: dict[str, Any], model: str, view: str) -> None:
    browser = browser_for(two["a"]["manager"])
    theirs = _obj(two["b"], model)
    assert browser.get(f"/admin/merchants/{model}/{theirs.pk}/{view}/").status_code in (403, 404)
    assert browser.post(f"/admin/merchants/{model}/{theirs.pk}/{view}/", {"post": "yes"}).status_code in (
        403,
        404,
    )
    assert type(theirs).objects.filter(pk=theirs.pk).exists()
    own = browser.get(f"/admin/merchants/{model}/{_obj(two['a'], model).pk}/{view}/").status_code
    # Only ops delete a whole merchant.
    assert own == (403 if (model, view) == ("merchant", "delete") else 200)


def test_another_merchants_item_cannot_be_changed_by_posting_its_form(two: dict[str, Any]) -> None:
    theirs = two["b"]["item"]
    response = browser_for(two["a"]["manager"]).post(
        f"/admin/merchants/menuitem/{theirs.pk}/change/",
        item_post(theirs, name="Bị sửa", merchant=two["a"]["merchant"].pk),
    )
    assert response.status_code == 404
    assert MenuItem.objects.get(pk=theirs.pk).name == "Món b"


def test_add_page_offers_only_their_merchant_and_categories(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["manager"])
    page = browser.get("/admin/merchants/menuitem/add/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert list(form.fields["merchant"].queryset) == [two["a"]["merchant"]]
    assert list(form.fields["category"].queryset) == [two["a"]["category"]]
    assert form.initial["merchant"] == two["a"]["merchant"].pk


def test_adding_a_dish_to_another_merchant_is_refused(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["manager"])
    before = MenuItem.objects.count()
    data = item_post(two["a"]["item"], name="Món lậu", merchant=two["b"]["merchant"].pk, category="")
    response = browser.post("/admin/merchants/menuitem/add/", data)
    assert response.status_code == 200
    assert "merchant" in response.context["adminform"].form.errors
    data = item_post(two["a"]["item"], name="Món lậu", category=two["b"]["category"].pk)
    response = browser.post("/admin/merchants/menuitem/add/", data)
    assert "category" in response.context["adminform"].form.errors
    assert MenuItem.objects.count() == before


def test_option_groups_and_options_only_attach_to_their_own_dishes(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["manager"])
    response = browser.post(
        "/admin/merchants/optiongroup/add/",
        {"item": two["b"]["item"].pk, "name": "Lậu", "min_select": 0, "max_select": 1, "position": 0,
         "options-TOTAL_FORMS": 0, "options-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert "item" in response.context["adminform"].form.errors
    response = browser.post(
        "/admin/merchants/option/add/",
        {"group": two["b"]["group"].pk, "name": "Lậu", "price_delta_vnd": 0, "position": 0},
    )
    assert "group" in response.context["adminform"].form.errors
    assert not OptionGroup.objects.filter(name="Lậu").exists()
    assert not Option.objects.filter(name="Lậu").exists()


@pytest.mark.parametrize(("model", "action"), [("menuitem", "mark_sold_out"), ("option", "mark_sold_out")])
def test_bulk_actions_touch_only_their_own_rows(two: dict[str, Any], model: str, action: str) -> None:
    mine, theirs = _obj(two["a"], model), _obj(two["b"], model)
    response = browser_for(two["a"]["staff"]).post(
        f"/admin/merchants/{model}/", {"action": action, "_selected_action": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 302
    assert type(mine).objects.get(pk=mine.pk).is_available is False
    assert type(theirs).objects.get(pk=theirs.pk).is_available is True


def test_back_in_stock_action(two: dict[str, Any]) -> None:
    item = two["a"]["item"]
    MenuItem.objects.filter(pk=item.pk).update(is_available=False)
    browser = browser_for(two["a"]["staff"])
    response = browser.post(
        "/admin/merchants/menuitem/", {"action": "mark_back_in_stock", "_selected_action": [item.pk]}
    )
    assert response.status_code == 302
    assert MenuItem.objects.get(pk=item.pk).is_available is True


def test_busy_actions_switch_only_their_own_merchant_through_the_service(two: dict[str, Any]) -> None:
    mine, theirs = two["a"]["merchant"], two["b"]["merchant"]
    browser = browser_for(two["a"]["staff"])

    response = browser.post(
        "/admin/merchants/merchant/", {"action": "mark_busy", "_selected_action": [mine.pk, theirs.pk]}
    )
    assert response.status_code == 302
    assert Merchant.objects.get(pk=mine.pk).is_busy is True
    assert Merchant.objects.get(pk=theirs.pk).is_busy is False
    events = OutboxEvent.objects.filter(topic="merchant.busy_changed")
    assert list(events.values_list("aggregate_id", "payload__is_busy")) == [(str(mine.pk), True)]

    response = browser.post(
        "/admin/merchants/merchant/", {"action": "mark_not_busy", "_selected_action": [mine.pk]}
    )
    assert response.status_code == 302
    assert Merchant.objects.get(pk=mine.pk).is_busy is False
    assert events.count() == 2


def test_staff_see_no_other_models(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["manager"])
    index = browser.get("/admin/")
    assert index.status_code == 200
    models = {
        (app["app_label"], model["object_name"])
        for app in index.context["app_list"]
        for model in app["models"]
    }
    assert {label for label, _ in models} <= {"merchants", "orders"}
    assert ("merchants", "StaffMembership") not in models
    assert ("merchants", "MenuItem") in models
    for url in ("/admin/users/user/", "/admin/merchants/staffmembership/", "/admin/orders/promotion/"):
        assert browser.get(url).status_code == 403, url


def test_plain_staff_may_look_but_not_edit(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["staff"])
    item = two["a"]["item"]
    assert browser.get(f"/admin/merchants/menuitem/{item.pk}/change/").status_code == 200
    response = browser.post(f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, name="Đổi"))
    assert response.status_code == 403
    assert MenuItem.objects.get(pk=item.pk).name == "Món a"
    assert browser.get("/admin/merchants/menuitem/add/").status_code == 403


def test_ops_see_and_edit_everything(two: dict[str, Any]) -> None:
    browser = browser_for(make_ops())
    page = browser.get("/admin/merchants/menuitem/")
    assert {obj.pk for obj in page.context["cl"].result_list} == {two["a"]["item"].pk, two["b"]["item"].pk}
    item = two["b"]["item"]
    response = browser.post(
        f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, name="Phở bò tái")
    )
    assert response.status_code == 302
    assert MenuItem.objects.get(pk=item.pk).name == "Phở bò tái"
    assert browser.get("/admin/merchants/staffmembership/").status_code == 200


def test_merchant_page_with_its_inlines(two: dict[str, Any]) -> None:
    browser = browser_for(two["a"]["manager"])
    merchant = two["a"]["merchant"]
    page = browser.get(f"/admin/merchants/merchant/{merchant.pk}/change/")
    assert page.status_code == 200
    prefixes = {formset.formset.prefix for formset in page.context["inline_admin_formsets"]}
    assert prefixes == {"opening_hours", "closed_dates", "categories", "items"}
    response = browser.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(
            merchant,
            name="Bánh Mì Huỳnh Hoa (Lê Thị Riêng)",
            **{
                "closed_dates-TOTAL_FORMS": 1,
                "closed_dates-0-date": "2026-02-17",
                "closed_dates-0-reason": "Tết",
            },
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    merchant.refresh_from_db()
    assert merchant.name == "Bánh Mì Huỳnh Hoa (Lê Thị Riêng)"
    assert merchant.closed_dates.get().reason == "Tết"


def test_staff_cannot_list_or_unlist_their_merchant(two: dict[str, Any]) -> None:
    merchant = two["a"]["merchant"]
    browser = browser_for(two["a"]["manager"])
    browser.post(f"/admin/merchants/merchant/{merchant.pk}/change/", merchant_post(merchant, is_active=""))
    assert Merchant.objects.get(pk=merchant.pk).is_active is True
    assert browser.get("/admin/merchants/merchant/add/").status_code == 403


# --- Bad input gives clear errors and writes nothing ---------------------------------------------


def test_negative_price_is_refused(two: dict[str, Any]) -> None:
    item = two["a"]["item"]
    response = browser_for(two["a"]["manager"]).post(
        f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, price_vnd=-1000)
    )
    assert response.status_code == 200
    assert "price_vnd" in response.context["adminform"].form.errors
    assert MenuItem.objects.get(pk=item.pk).price_vnd == 45_000


def test_negative_price_in_an_inline_is_refused(two: dict[str, Any]) -> None:
    merchant = two["a"]["merchant"]
    response = browser_for(two["a"]["manager"]).post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(
            merchant,
            name="Đổi tên cùng lúc",
            **{
                "items-TOTAL_FORMS": 1,
                "items-0-name": "Bánh mì chảo",
                "items-0-price_vnd": -5,
                "items-0-position": 0,
                "items-0-is_available": "on",
            },
        ),
    )
    assert response.status_code == 200
    assert any(formset.formset.total_error_count() for formset in response.context["inline_admin_formsets"])
    assert not MenuItem.objects.filter(name="Bánh mì chảo").exists()
    assert Merchant.objects.get(pk=merchant.pk).name == "Bánh Mì Huỳnh Hoa"


def test_min_selections_above_max_is_refused(two: dict[str, Any]) -> None:
    group = two["a"]["group"]
    response = browser_for(two["a"]["manager"]).post(
        f"/admin/merchants/optiongroup/{group.pk}/change/",
        {"item": group.item_id, "name": "Topping", "is_required": "", "min_select": 3, "max_select": 2,
         "position": 0, "options-TOTAL_FORMS": 0, "options-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "min_select" in errors or "__all__" in errors
    group.refresh_from_db()
    assert (group.name, group.min_select, group.max_select) == ("Size a", 1, 1)


@pytest.mark.parametrize(("field", "value"), [("lat", "91.5"), ("lng", "-200"), ("cuisines", ["pizza"])])
def test_out_of_range_position_and_unknown_cuisine_are_refused(
    two: dict[str, Any], field: str, value: Any
) -> None:
    merchant = two["a"]["merchant"]
    response = browser_for(two["a"]["manager"]).post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(merchant, name="Đổi", **{field: value}),
    )
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    fresh = Merchant.objects.get(pk=merchant.pk)
    assert (fresh.name, fresh.lat, fresh.cuisines) == ("Bánh Mì Huỳnh Hoa", merchant.lat, ["vietnamese"])
    assert fresh.lat == Decimal(merchant.lat)


def test_overlapping_hours_in_the_inline_are_refused(two: dict[str, Any]) -> None:
    merchant = two["a"]["merchant"]
    merchant.opening_hours.all().delete()
    rows: dict[str, Any] = {"opening_hours-TOTAL_FORMS": 2}
    for n, (weekday, opens, closes) in enumerate([(4, "22:00", "02:00"), (5, "01:00", "09:00")]):
        rows |= {f"opening_hours-{n}-weekday": weekday, f"opening_hours-{n}-opens_at": opens}
        rows[f"opening_hours-{n}-closes_at"] = closes
    browser = browser_for(two["a"]["manager"])
    response = browser.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/", merchant_post(merchant, **rows)
    )
    assert response.status_code == 200
    assert not merchant.opening_hours.exists()
    rows["opening_hours-1-opens_at"] = "02:00"  # touching is fine
    response = browser.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/", merchant_post(merchant, **rows)
    )
    assert response.status_code == 302
    assert merchant.opening_hours.count() == 2


def test_category_choices_are_the_merchants_own_even_for_ops(two: dict[str, Any]) -> None:
    browser = browser_for(make_ops())
    merchant, item = two["a"]["merchant"], two["a"]["item"]
    page = browser.get(f"/admin/merchants/merchant/{merchant.pk}/change/")
    items_inline = next(
        f.formset for f in page.context["inline_admin_formsets"] if f.formset.prefix == "items"
    )
    assert list(items_inline.forms[0].fields["category"].queryset) == [two["a"]["category"]]
    page = browser.get(f"/admin/merchants/menuitem/{item.pk}/change/")
    assert list(page.context["adminform"].form.fields["category"].queryset) == [two["a"]["category"]]
