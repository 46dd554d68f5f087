"""Quote and place: server-side prices, refusals with codes, line snapshots, Idempotency-Key."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from loship.events.models import OutboxEvent
from orders.models import Order, OrderEvent, OrderStatus
from tests.factories import AddressFactory
from tests.orders.factories import Menu, cart_body, make_merchant, make_promotion

pytestmark = pytest.mark.django_db


def quote(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/orders/quote", body, format="json")


def test_quote_itemizes_subtotal_fees_and_total(customer_client: APIClient, menu: Menu) -> None:
    response = quote(customer_client, cart_body(menu))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [line["line_total_vnd"] for line in body["lines"]] == [65000, 20000]
    assert [option["name"] for option in body["lines"][0]["options"]] == ["Lớn", "Trứng"]
    assert body["subtotal_vnd"] == 85000
    assert body["delivery_fee_vnd"] == 15000
    assert body["small_order_fee_vnd"] == 0
    assert body["service_fee_vnd"] == 3000
    assert body["total_vnd"] == 103000
    assert body["eta"]


def test_quote_adds_a_small_order_fee_under_the_merchants_minimum(
    customer_client: APIClient, menu: Menu
) -> None:
    body = cart_body(menu, lines=[{"item_id": menu.tea.pk, "quantity": 1}])

    response = quote(customer_client, body)

    assert response.json()["small_order_fee_vnd"] == 10000
    assert response.json()["total_vnd"] == 10000 + 15000 + 10000 + 3000


def test_quote_applies_a_capped_promotion(customer_client: APIClient, menu: Menu) -> None:
    promo = make_promotion(kind="percent", value=50, max_discount_vnd=30000)

    response = quote(customer_client, cart_body(menu, promo_code=promo.code.lower()))

    assert response.json()["discount_vnd"] == 30000
    assert response.json()["total_vnd"] == 103000 - 30000


def test_quote_to_a_saved_address(customer_client: APIClient, customer: Any, menu: Menu) -> None:
    address = AddressFactory(user=customer, lat=Decimal("10.780000"), lng=Decimal("106.702000"))
    body = cart_body(menu)
    del body["delivery_lat"], body["delivery_lng"]

    response = quote(customer_client, {**body, "address_id": address.pk})

    assert response.status_code == 200
    assert response.json()["distance_m"] < 1000


def _pho_options(*names: str) -> Callable[[Menu, dict[str, Any]], None]:
    def mutate(menu: Menu, body: dict[str, Any]) -> None:
        body["lines"][0]["option_ids"] = [getattr(menu, name).pk for name in names]

    return mutate


def _item_unavailable(menu: Menu, body: dict[str, Any]) -> None:
    menu.pho.is_available = False
    menu.pho.save()


def _merchant_busy(menu: Menu, body: dict[str, Any]) -> None:
    menu.merchant.is_busy = True
    menu.merchant.save()


def _option_of_another_item(menu: Menu, body: dict[str, Any]) -> None:
    body["lines"][1]["option_ids"] = [menu.egg.pk]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (_item_unavailable, "item_unavailable"),
        (_pho_options("size_large", "tripe"), "option_unavailable"),
        (_option_of_another_item, "option_unavailable"),
        (_pho_options("egg"), "option_group_required"),
        (_pho_options("size_large", "size_small"), "too_many_options"),
        (_merchant_busy, "merchant_busy"),
        (lambda m, b: b.update(delivery_lat="10.900000"), "outside_delivery_radius"),
        (lambda m, b: b.update(promo_code="NOPE"), "promo_invalid"),
    ],
)
def test_quote_refusals_carry_codes(
    customer_client: APIClient, menu: Menu, mutate: Callable[[Menu, dict[str, Any]], Any], code: str
) -> None:
    body = cart_body(menu)
    mutate(menu, body)

    response = quote(customer_client, body)

    assert response.status_code in (409, 422), response.json()
    assert response.json()["error"]["code"] == code


def test_an_item_of_another_merchant_is_unavailable(customer_client: APIClient, menu: Menu) -> None:
    other = make_merchant()
    from merchants.models import MenuItem

    foreign = MenuItem.objects.create(merchant=other, name="Cơm tấm", price_vnd=40000, is_available=True)
    body = cart_body(menu, lines=[{"item_id": foreign.pk, "quantity": 1}])

    assert quote(customer_client, body).json()["error"]["code"] == "item_unavailable"


def _local_today() -> Any:
    from django.utils import timezone

    from merchants.selectors import LOCAL_TZ

    return timezone.now().astimezone(LOCAL_TZ).date()


def _no_hours(menu: Menu) -> None:
    menu.merchant.opening_hours.all().delete()


def _hours_only_tomorrow(menu: Menu) -> None:
    tomorrow = (_local_today().weekday() + 1) % 7
    menu.merchant.opening_hours.exclude(weekday=tomorrow).delete()


def _closed_today(menu: Menu) -> None:
    from merchants.models import ClosedDate

    yesterday = (_local_today().weekday() - 1) % 7
    menu.merchant.opening_hours.filter(weekday=yesterday).delete()  # no spill-over into today
    ClosedDate.objects.create(merchant=menu.merchant, date=_local_today(), reason="Tết")


@pytest.mark.parametrize("close", [_no_hours, _hours_only_tomorrow, _closed_today])
def test_a_closed_merchant_is_refused_and_nothing_is_placed(
    customer_client: APIClient, menu: Menu, place: Callable[..., Any], close: Callable[[Menu], None]
) -> None:
    close(menu)

    quoted = quote(customer_client, cart_body(menu))
    placed = place()

    for response in (quoted, placed):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "merchant_closed"
    assert not Order.objects.exists()


def test_last_nights_hours_running_past_midnight_keep_the_merchant_open(
    customer_client: APIClient, menu: Menu
) -> None:
    from datetime import time, timedelta

    from merchants.models import ClosedDate, OpeningHours

    today = _local_today()
    yesterday = today - timedelta(days=1)
    menu.merchant.opening_hours.all().delete()
    # Opens yesterday at 23:59:59 and runs to 23:59:58 today: only yesterday's row covers now.
    OpeningHours.objects.create(
        merchant=menu.merchant,
        weekday=yesterday.weekday(),
        opens_at=time(23, 59, 59),
        closes_at=time(23, 59, 58),
    )

    open_now = quote(customer_client, cart_body(menu))
    ClosedDate.objects.create(merchant=menu.merchant, date=yesterday)
    closed_yesterday = quote(customer_client, cart_body(menu))

    assert open_now.status_code == 200, open_now.json()
    assert closed_yesterday.json()["error"]["code"] == "merchant_closed"


def test_an_unknown_or_delisted_merchant_is_404(customer_client: APIClient, menu: Menu) -> None:
    missing = quote(customer_client, cart_body(menu, merchant_id=menu.merchant.pk + 10_000))
    menu.merchant.is_active = False
    menu.merchant.save()
    delisted = quote(customer_client, cart_body(menu))

    for response in (missing, delisted):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "merchant_not_found"


@pytest.mark.parametrize(
    ("promo_fields", "code"),
    [
        ({"ends_at_days": -1}, "promo_expired"),
        ({"starts_at_days": 1}, "promo_not_started"),
        ({"min_subtotal_vnd": 100000}, "promo_min_subtotal_not_met"),
        ({"usage_limit": 1, "used_count": 1}, "promo_used_up"),
        ({"other_merchant": True}, "promo_not_for_merchant"),
        ({"is_active": False}, "promo_invalid"),
    ],
)
def test_promo_refusals_say_why(
    customer_client: APIClient, menu: Menu, promo_fields: dict[str, Any], code: str
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    fields = dict(promo_fields)
    now = timezone.now()
    if "ends_at_days" in fields:
        fields["starts_at"] = now - timedelta(days=3)
        fields["ends_at"] = now + timedelta(days=fields.pop("ends_at_days"))
    if "starts_at_days" in fields:
        fields["starts_at"] = now + timedelta(days=fields.pop("starts_at_days"))
        fields["ends_at"] = now + timedelta(days=5)
    if fields.pop("other_merchant", False):
        fields["merchant"] = make_merchant()
    promo = make_promotion(**fields)

    response = quote(customer_client, cart_body(menu, promo_code=promo.code))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_placing_creates_the_order_with_server_prices_and_an_event(
    place: Callable[..., Any], customer: Any
) -> None:
    response = place()

    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert order.customer == customer
    assert (order.status, order.version, order.total_vnd) == (OrderStatus.PLACED, 1, 103000)
    assert order.merchant_accept_deadline is not None
    assert [e.kind for e in OrderEvent.objects.filter(order=order)] == ["placed"]
    event = OutboxEvent.objects.get(topic="order.placed", aggregate_id=str(order.pk))
    assert event.sequence == 1
    assert event.payload["status"] == "placed"
    assert event.payload["total_vnd"] == 103000
    assert set(event.payload) >= {"order_id", "code", "status", "version", "customer_id", "merchant_id",
                                  "driver_id", "eta", "total_vnd", "reason"}  # fmt: skip


def test_lines_keep_a_snapshot_when_the_menu_changes(
    place: Callable[..., Any], menu: Menu, customer_client: APIClient
) -> None:
    order_id = place().json()["id"]
    menu.pho.name, menu.pho.price_vnd = "Phở bò đặc biệt", 90000
    menu.pho.save()
    menu.size_large.price_delta_vnd = 30000
    menu.size_large.save()

    body = customer_client.get(f"/api/v1/orders/{order_id}").json()

    assert body["lines"][0]["name"] == "Phở bò"
    assert body["lines"][0]["unit_price_vnd"] == 65000
    assert body["lines"][0]["options"][0]["price_delta_vnd"] == 10000
    assert body["total_vnd"] == 103000


@pytest.mark.parametrize(
    "smuggled",
    [{"total_vnd": 1}, {"status": "delivered"}, {"subtotal_vnd": 0}, {"discount_vnd": 100000},
     {"customer_id": 1}],
)  # fmt: skip
def test_a_client_cannot_send_prices_or_status(place: Callable[..., Any], smuggled: dict[str, Any]) -> None:
    response = place(**smuggled)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(smuggled)
    assert not Order.objects.exists()


def test_a_client_cannot_send_a_price_inside_a_line(place: Callable[..., Any], menu: Menu) -> None:
    response = place(lines=[{"item_id": menu.tea.pk, "quantity": 1, "price_vnd": 1}])

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_placing_needs_an_idempotency_key(customer_client: APIClient, menu: Menu) -> None:
    response = customer_client.post("/api/v1/orders", cart_body(menu), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_the_same_key_and_body_returns_the_same_order(place: Callable[..., Any]) -> None:
    first = place(key="abc")
    second = place(key="abc")

    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Order.objects.count() == 1


def test_the_same_key_with_another_body_is_422(place: Callable[..., Any]) -> None:
    place(key="abc")
    response = place(key="abc", note="thêm ớt")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def test_keys_belong_to_one_customer(place: Callable[..., Any], menu: Menu) -> None:
    from tests.factories import UserFactory
    from tests.orders.conftest import client_for

    place(key="shared")
    other = place(client=client_for(UserFactory()), key="shared")

    assert other.status_code == 201
    assert Order.objects.count() == 2


def test_a_refused_placement_can_be_retried_with_the_same_key(place: Callable[..., Any], menu: Menu) -> None:
    menu.merchant.is_busy = True
    menu.merchant.save()
    assert place(key="k").status_code == 409
    menu.merchant.is_busy = False
    menu.merchant.save()

    assert place(key="k").status_code == 201


def test_a_fixed_promo_of_this_merchant_applies_and_its_use_is_counted(
    place: Callable[..., Any], customer_client: APIClient, menu: Menu
) -> None:
    promo = make_promotion(kind="fixed", value=20000, max_discount_vnd=None, merchant=menu.merchant)

    quoted = quote(customer_client, cart_body(menu, promo_code=promo.code))
    placed = place(promo_code=promo.code)

    assert quoted.json()["discount_vnd"] == 20000
    assert placed.json()["discount_vnd"] == 20000
    assert placed.json()["total_vnd"] == 103000 - 20000
    assert placed.json()["promo_code"] == promo.code
    promo.refresh_from_db()
    assert promo.used_count == 1
    assert promo.redemptions.get().order_id == placed.json()["id"]


def test_a_per_customer_limit_counts_only_that_customer(place: Callable[..., Any], menu: Menu) -> None:
    from tests.factories import UserFactory
    from tests.orders.conftest import client_for

    promo = make_promotion(per_customer_limit=1)
    first = place(promo_code=promo.code)
    second = place(promo_code=promo.code)
    other = client_for(UserFactory()).post(
        "/api/v1/orders", cart_body(menu, promo_code=promo.code), format="json", HTTP_IDEMPOTENCY_KEY="x"
    )

    assert (first.status_code, other.status_code) == (201, 201)
    assert second.status_code == 422
    assert second.json()["error"]["code"] == "promo_customer_limit_reached"
