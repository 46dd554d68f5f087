"""Who sees what: customers their own orders, merchant staff their merchants' orders, ops everything."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from orders.models import Order, OrderStatus
from tests.factories import UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import Menu, cart_body, make_menu, make_staff
from users.models import Role

pytestmark = pytest.mark.django_db


def test_a_customer_cannot_see_or_cancel_another_customers_order(placed_order: Order) -> None:
    stranger = client_for(UserFactory())

    for response in (
        stranger.get(f"/api/v1/orders/{placed_order.pk}"),
        stranger.post(f"/api/v1/orders/{placed_order.pk}/cancel", {}, format="json"),
        stranger.post(f"/api/v1/orders/{placed_order.pk}/reorder"),
        stranger.post(f"/api/v1/orders/{placed_order.pk}/rating", {"merchant_stars": 1}, format="json"),
    ):
        assert response.status_code == 404
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PLACED
    assert stranger.get("/api/v1/orders").json()["results"] == []


def test_merchant_staff_see_and_act_only_on_their_own_merchants_orders(
    placed_order: Order, menu: Menu
) -> None:
    own = client_for(make_staff(menu.merchant))
    other = client_for(make_staff(make_menu().merchant))

    assert other.get(f"/api/v1/merchant/orders/{placed_order.pk}").status_code == 404
    assert (
        other.post(
            f"/api/v1/merchant/orders/{placed_order.pk}/accept", {"prep_minutes": 5}, format="json"
        ).status_code
        == 404
    )
    assert other.get("/api/v1/merchant/orders").json()["results"] == []

    listed = own.get("/api/v1/merchant/orders?status=placed").json()["results"]
    accepted = own.post(
        f"/api/v1/merchant/orders/{placed_order.pk}/accept", {"prep_minutes": 12}, format="json"
    )

    assert [row["id"] for row in listed] == [placed_order.pk]
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["prep_minutes"] == 12


def test_customers_cannot_use_merchant_or_ops_endpoints(
    customer_client: APIClient, placed_order: Order
) -> None:
    assert customer_client.get("/api/v1/merchant/orders").status_code == 403
    assert customer_client.get("/api/v1/ops/orders").status_code == 403
    assert (
        customer_client.post(
            f"/api/v1/ops/orders/{placed_order.pk}/cancel", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )


def test_the_merchant_flow_over_the_api(placed_order: Order, menu: Menu) -> None:
    staff = client_for(make_staff(menu.merchant))
    base = f"/api/v1/merchant/orders/{placed_order.pk}"

    staff.post(f"{base}/accept", {"prep_minutes": 10}, format="json")
    preparing = staff.post(f"{base}/preparing", {}, format="json")
    ready = staff.post(f"{base}/ready", {}, format="json")
    again = staff.post(f"{base}/preparing", {}, format="json")

    assert (preparing.status_code, ready.status_code) == (200, 200)
    assert ready.json()["status"] == "ready_for_pickup"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_transition_not_allowed"
    assert [e["kind"] for e in ready.json()["timeline"]] == [
        "placed",
        "accepted",
        "preparing",
        "ready_for_pickup",
    ]


def test_a_merchant_rejects_with_a_reason(placed_order: Order, menu: Menu) -> None:
    staff = client_for(make_staff(menu.merchant))

    response = staff.post(
        f"/api/v1/merchant/orders/{placed_order.pk}/reject", {"reason": "Hết phở"}, format="json"
    )

    assert response.json()["status"] == "rejected"
    assert response.json()["status_reason"] == "Hết phở"


def test_a_customer_cancels_before_acceptance_but_not_after(
    place: Callable[..., Any], customer_client: APIClient, menu: Menu
) -> None:
    first = place().json()["id"]
    second = place().json()["id"]
    client_for(make_staff(menu.merchant)).post(
        f"/api/v1/merchant/orders/{second}/accept", {"prep_minutes": 5}, format="json"
    )

    ok = customer_client.post(f"/api/v1/orders/{first}/cancel", {"reason": "đổi ý"}, format="json")
    late = customer_client.post(f"/api/v1/orders/{second}/cancel", {}, format="json")

    assert ok.json()["status"] == "cancelled"
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "order_not_cancellable"


def test_the_order_list_is_newest_first_with_a_cursor(
    place: Callable[..., Any], customer_client: APIClient
) -> None:
    ids = [place().json()["id"] for _ in range(3)]

    page1 = customer_client.get("/api/v1/orders?page_size=2").json()
    page2 = customer_client.get(page1["next"]).json()

    assert [row["id"] for row in page1["results"]] == ids[::-1][:2]
    assert [row["id"] for row in page2["results"]] == ids[:1]


def test_the_order_detail_has_a_timeline(placed_order: Order, customer_client: APIClient) -> None:
    body = customer_client.get(f"/api/v1/orders/{placed_order.pk}").json()

    assert body["timeline"][0]["kind"] == "placed"
    assert body["timeline"][0]["to_status"] == "placed"
    assert body["code"] == placed_order.code


def test_reorder_returns_a_fresh_quote_of_the_same_items(
    placed_order: Order, customer_client: APIClient, menu: Menu
) -> None:
    menu.tea.price_vnd = 12000
    menu.tea.save()

    body = customer_client.post(f"/api/v1/orders/{placed_order.pk}/reorder").json()

    assert body["quote"]["subtotal_vnd"] == 65000 + 24000
    assert body["cart"]["lines"][0]["option_ids"] == [menu.size_large.pk, menu.egg.pk]
    assert Order.objects.count() == 1


def test_reorder_refuses_an_item_that_is_gone(
    placed_order: Order, customer_client: APIClient, menu: Menu
) -> None:
    menu.egg.is_available = False
    menu.egg.save()

    response = customer_client.post(f"/api/v1/orders/{placed_order.pk}/reorder")

    assert response.json()["error"]["code"] == "option_unavailable"


def test_ops_search_by_status_merchant_code_and_phone(
    place: Callable[..., Any], customer: Any, menu: Menu
) -> None:
    order_id = place().json()["id"]
    order = Order.objects.get(pk=order_id)
    other_customer = client_for(UserFactory())
    other_customer.post("/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="x")
    ops = client_for(UserFactory(roles=[Role.OPS]))

    by_phone = ops.get("/api/v1/ops/orders", {"phone": "0" + customer.phone[3:]}).json()["results"]
    by_code = ops.get("/api/v1/ops/orders", {"code": order.code.lower()}).json()["results"]
    by_status = ops.get("/api/v1/ops/orders", {"status": "placed", "merchant": menu.merchant.pk}).json()
    bad = ops.get("/api/v1/ops/orders", {"status": "nope"})

    assert [row["id"] for row in by_phone] == [order_id]
    assert [row["id"] for row in by_code] == [order_id]
    assert by_status["count"] == 2
    assert bad.status_code == 400


def test_ops_cancel_over_the_api(placed_order: Order) -> None:
    ops = client_for(UserFactory(roles=[Role.OPS]))

    response = ops.post(f"/api/v1/ops/orders/{placed_order.pk}/cancel", {"reason": "gian lận"}, format="json")

    assert response.json()["status"] == "cancelled"
    placed_order.refresh_from_db()
    assert placed_order.cancelled_by == "ops"


def test_admin_shows_merchant_staff_only_their_orders(placed_order: Order, menu: Menu) -> None:
    other_order_menu = make_menu()
    other_client = client_for(UserFactory())
    other_client.post("/api/v1/orders", cart_body(other_order_menu), format="json", HTTP_IDEMPOTENCY_KEY="y")
    browser = Client()
    browser.force_login(make_staff(menu.merchant))

    page = browser.get("/admin/orders/order/")
    foreign = Order.objects.exclude(pk=placed_order.pk).get()

    assert page.status_code == 200
    assert placed_order.code in page.content.decode()
    assert foreign.code not in page.content.decode()
    assert browser.get(f"/admin/orders/order/{foreign.pk}/change/").status_code in (302, 404)


def test_admin_ops_see_every_order_with_its_timeline(placed_order: Order) -> None:
    browser = Client()
    browser.force_login(UserFactory(roles=[Role.OPS], is_staff=True))

    listing = browser.get("/admin/orders/order/", {"q": placed_order.code})
    detail = browser.get(f"/admin/orders/order/{placed_order.pk}/change/")

    assert placed_order.code in listing.content.decode()
    assert detail.status_code == 200
    assert "diễn biến" in detail.content.decode().lower()  # "timeline": the admin speaks Vietnamese


def test_admin_cancel_action_calls_the_service(placed_order: Order) -> None:
    browser = Client()
    browser.force_login(UserFactory(roles=[Role.OPS], is_staff=True))

    browser.post(
        "/admin/orders/order/",
        {"action": "cancel_with_refund", "_selected_action": [placed_order.pk]},
    )

    placed_order.refresh_from_db()
    assert (placed_order.status, placed_order.cancelled_by) == ("cancelled", "ops")


def test_the_hand_built_order_body_matches_the_documented_serializer(placed_order: Order) -> None:
    from orders.api.serializers import OrderDetailOutputSerializer, order_detail_body
    from orders.selectors import order_detail_queryset

    order = order_detail_queryset().get(pk=placed_order.pk)
    lines, events = list(order.lines.all()), list(order.events.all())
    for for_customer in (False, True):
        documented = dict(OrderDetailOutputSerializer(order, context={"for_customer": for_customer}).data)
        rendered = order_detail_body(order, lines=lines, events=events, for_customer=for_customer)

        assert rendered == documented


def test_the_one_statement_detail_reads_what_the_documented_serializer_shows(
    placed_order: Order, customer_client: APIClient
) -> None:
    """`selectors.order_detail` against the ORM read, on an order with a driver, an opened e-wallet
    payment and a timeline of several steps."""
    from orders import services
    from orders.api.serializers import OrderDetailOutputSerializer, order_detail_body
    from orders.models import Payment, PaymentMethod
    from orders.selectors import order_detail, order_detail_queryset

    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=12)
    services.mark_preparing(order_id=placed_order.pk, actor=None)
    driver = UserFactory(roles=[Role.DRIVER], full_name="Tài xế Minh")
    Order.objects.filter(pk=placed_order.pk).update(driver=driver, payment_method=PaymentMethod.EWALLET)
    Payment.objects.create(
        order_id=placed_order.pk,
        provider="sandbox",
        amount_vnd=1,
        pay_url="https://pay.example/1",
        deeplink="x://1",
    )

    detail = order_detail(placed_order.pk)
    assert detail is not None
    assert len(detail.events) == 3
    for for_customer in (False, True):
        documented = OrderDetailOutputSerializer(
            order_detail_queryset().get(pk=placed_order.pk), context={"for_customer": for_customer}
        ).data
        rendered = order_detail_body(
            detail.order, lines=detail.lines, events=detail.events, for_customer=for_customer
        )
        assert rendered == dict(documented)
    assert customer_client.get(f"/api/v1/orders/{placed_order.pk}").json()["driver"]["name"] == "Tài xế Minh"


def test_an_order_id_beyond_any_order_is_not_found(customer_client: APIClient) -> None:
    for order_id in (999_999_999, 2**63):
        response = customer_client.get(f"/api/v1/orders/{order_id}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_the_hand_built_history_matches_the_documented_serializer(
    place: Callable[..., Any], customer_client: APIClient
) -> None:
    from orders.api.serializers import OrderSummaryOutputSerializer

    for _ in range(3):
        assert place().status_code == 201
    Order.objects.filter(pk=Order.objects.order_by("id").first().pk).update(eta=None)

    listed = customer_client.get("/api/v1/orders").json()["results"]

    newest_first = Order.objects.select_related("merchant").order_by("-created_at", "-id")
    assert listed == [dict(row) for row in OrderSummaryOutputSerializer(newest_first, many=True).data]


def test_only_the_customer_sees_the_delivery_code(
    customer_client: APIClient, placed_order: Order, menu: Menu
) -> None:
    staff_client = client_for(make_staff(menu.merchant))

    own = customer_client.get(f"/api/v1/orders/{placed_order.pk}").json()
    merchant_view = staff_client.get(f"/api/v1/merchant/orders/{placed_order.pk}").json()

    assert own["delivery_code"] == placed_order.delivery_code
    assert len(own["delivery_code"]) == 4
    assert merchant_view["delivery_code"] is None


MERCHANT_ACTIONS = [
    ("accept", {"prep_minutes": 5}),
    ("reject", {"reason": "x"}),
    ("preparing", {}),
    ("ready", {}),
    ("cancel", {"reason": "x"}),
]


@pytest.mark.parametrize(("action", "body"), MERCHANT_ACTIONS)
def test_another_merchants_staff_get_404_on_every_action_and_nothing_changes(
    placed_order: Order, action: str, body: dict[str, Any]
) -> None:
    other = client_for(make_staff(make_menu().merchant))

    response = other.post(f"/api/v1/merchant/orders/{placed_order.pk}/{action}", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    placed_order.refresh_from_db()
    assert (placed_order.status, placed_order.version) == (OrderStatus.PLACED, 1)


def test_merchant_incoming_orders_by_status_newest_first(place: Callable[..., Any], menu: Menu) -> None:
    first, second, third = (place().json()["id"] for _ in range(3))
    staff = client_for(make_staff(menu.merchant))
    staff.post(f"/api/v1/merchant/orders/{second}/accept", {"prep_minutes": 5}, format="json")

    placed = staff.get("/api/v1/merchant/orders", {"status": "placed"}).json()
    accepted = staff.get("/api/v1/merchant/orders", {"status": "accepted"}).json()
    everything = staff.get("/api/v1/merchant/orders").json()

    assert [row["id"] for row in placed["results"]] == [third, first]
    assert [row["id"] for row in accepted["results"]] == [second]
    assert [row["id"] for row in everything["results"]] == [third, second, first]
    assert staff.get("/api/v1/merchant/orders", {"status": "nope"}).status_code == 400


def test_merchant_staff_of_two_merchants_filter_by_merchant(place: Callable[..., Any], menu: Menu) -> None:
    from merchants.models import StaffMembership

    other_menu = make_menu()
    mine = place().json()["id"]
    theirs = (
        client_for(UserFactory())
        .post("/api/v1/orders", cart_body(other_menu), format="json", HTTP_IDEMPOTENCY_KEY="o")
        .json()["id"]
    )
    user = make_staff(menu.merchant)
    StaffMembership.objects.create(user=user, merchant=other_menu.merchant)
    staff = client_for(user)

    only_other = staff.get("/api/v1/merchant/orders", {"merchant": other_menu.merchant.pk}).json()["results"]
    both = staff.get("/api/v1/merchant/orders").json()["results"]

    assert [row["id"] for row in only_other] == [theirs]
    assert {row["id"] for row in both} == {mine, theirs}


def test_ops_filter_by_creation_date(place: Callable[..., Any]) -> None:
    from datetime import timedelta

    from django.utils import timezone

    old_id, new_id = place().json()["id"], place().json()["id"]
    Order.objects.filter(pk=old_id).update(created_at=timezone.now() - timedelta(days=10))
    ops = client_for(UserFactory(roles=[Role.OPS]))
    today = timezone.now().date()

    recent = ops.get("/api/v1/ops/orders", {"date_from": str(today - timedelta(days=1))}).json()["results"]
    older = ops.get("/api/v1/ops/orders", {"date_to": str(today - timedelta(days=5))}).json()["results"]
    unknown = ops.get("/api/v1/ops/orders", {"colour": "red"})

    assert [row["id"] for row in recent] == [new_id]
    assert [row["id"] for row in older] == [old_id]
    assert unknown.status_code == 400


def test_ops_see_any_order_and_merchant_staff_cannot_use_ops_endpoints(
    placed_order: Order, menu: Menu
) -> None:
    ops = client_for(UserFactory(roles=[Role.OPS]))
    staff = client_for(make_staff(menu.merchant))

    assert ops.get(f"/api/v1/ops/orders/{placed_order.pk}").json()["code"] == placed_order.code
    assert ops.get("/api/v1/ops/orders/999999").status_code == 404
    assert staff.get("/api/v1/ops/orders").status_code == 403
    assert (
        staff.post(f"/api/v1/ops/orders/{placed_order.pk}/cancel", {"reason": "x"}, format="json").status_code
        == 403
    )


def test_anonymous_callers_are_401_everywhere(placed_order: Order) -> None:
    from rest_framework.test import APIClient as Anonymous

    anonymous = Anonymous()
    for method, path in [
        ("get", "/api/v1/orders"),
        ("post", "/api/v1/orders/quote"),
        ("get", f"/api/v1/orders/{placed_order.pk}"),
        ("get", "/api/v1/merchant/orders"),
        ("get", "/api/v1/ops/orders"),
    ]:
        response = (
            getattr(anonymous, method)(path, {}, format="json") if method == "post" else anonymous.get(path)
        )
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("accept", {"prep_minutes": 5, "status": "delivered"}),
        ("accept", {"prep_minutes": 5, "total_vnd": 1}),
        ("reject", {"reason": "x", "status": "cancelled"}),
    ],
)
def test_merchant_action_bodies_reject_smuggled_fields(
    placed_order: Order, menu: Menu, path: str, body: dict[str, Any]
) -> None:
    staff = client_for(make_staff(menu.merchant))

    response = staff.post(f"/api/v1/merchant/orders/{placed_order.pk}/{path}", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    placed_order.refresh_from_db()
    assert (placed_order.status, placed_order.total_vnd, placed_order.version) == ("placed", 103000, 1)


def test_a_customer_cannot_cancel_with_a_smuggled_status(
    customer_client: APIClient, placed_order: Order
) -> None:
    response = customer_client.post(
        f"/api/v1/orders/{placed_order.pk}/cancel", {"reason": "x", "status": "delivered"}, format="json"
    )

    assert response.status_code == 400
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PLACED


def test_reorder_of_a_closed_merchant_is_refused_with_its_code(
    placed_order: Order, customer_client: APIClient, menu: Menu
) -> None:
    menu.merchant.opening_hours.all().delete()

    response = customer_client.post(f"/api/v1/orders/{placed_order.pk}/reorder")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "merchant_closed"


def test_the_placement_response_is_the_order_detail(
    place: Callable[..., Any], customer_client: APIClient
) -> None:
    placed = place().json()

    assert placed == customer_client.get(f"/api/v1/orders/{placed['id']}").json()


def test_quoting_to_another_customers_address_is_404(customer_client: APIClient, menu: Menu) -> None:
    from tests.factories import AddressFactory

    foreign = AddressFactory()
    body = cart_body(menu)
    del body["delivery_lat"], body["delivery_lng"]

    response = customer_client.post("/api/v1/orders/quote", {**body, "address_id": foreign.pk}, format="json")

    assert response.status_code == 404


def test_the_reorder_cart_places_again_as_it_is(placed_order: Order, customer_client: APIClient) -> None:
    cart = customer_client.post(f"/api/v1/orders/{placed_order.pk}/reorder").json()["cart"]

    again = customer_client.post("/api/v1/orders", cart, format="json", HTTP_IDEMPOTENCY_KEY="again")

    assert again.status_code == 201, again.json()
    assert again.json()["total_vnd"] == placed_order.total_vnd
    assert again.json()["id"] != placed_order.pk
