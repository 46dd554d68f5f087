"""Every order action is safe to retry: the same request again, by the same caller, answers 200 with the
order as the first answer had it and writes nothing more (no second history row, outbox event or
booking); a different request or another caller is still refused."""

from collections import Counter
from typing import Any

import pytest

from loship.events.models import OutboxEvent
from orders import services
from orders.models import ActorRole, Order, OrderEvent, OrderStatus
from tests.concurrency import run_at_once
from tests.factories import UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import Menu, cart_body, make_menu, make_staff
from tests.retries import sent_twice
from users.models import Role

S = OrderStatus

#: Merchant actions: the steps that bring a placed order to where the action applies, then the action.
MERCHANT_ACTIONS: dict[str, tuple[list[tuple[str, dict[str, Any]]], dict[str, Any]]] = {
    "accept": ([], {"prep_minutes": 15}),
    "reject": ([], {"reason": "Hết phở"}),
    "preparing": ([("accept", {"prep_minutes": 15})], {}),
    "ready": ([("accept", {"prep_minutes": 15})], {}),
    "cancel": ([("accept", {"prep_minutes": 15})], {"reason": "Bếp hỏng"}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("action", MERCHANT_ACTIONS)
def test_a_merchant_action_sent_twice_answers_the_same_order_and_writes_once(
    placed_order: Order, action: str
) -> None:
    staff = client_for(make_staff(placed_order.merchant))
    steps, body = MERCHANT_ACTIONS[action]
    for step, step_body in steps:
        assert (
            staff.post(
                f"/api/v1/merchant/orders/{placed_order.pk}/{step}", step_body, format="json"
            ).status_code
            == 200
        )

    first, _ = sent_twice(
        lambda: staff.post(f"/api/v1/merchant/orders/{placed_order.pk}/{action}", body, format="json")
    )

    order = Order.objects.get(pk=placed_order.pk)
    assert first.json()["version"] == order.version
    assert OrderEvent.objects.filter(order=order, kind=order.status).count() == 1


@pytest.mark.django_db
def test_a_customer_cancel_sent_twice_answers_the_cancelled_order(
    placed_order: Order, customer_client: Any
) -> None:
    first, _ = sent_twice(
        lambda: customer_client.post(
            f"/api/v1/orders/{placed_order.pk}/cancel", {"reason": "đổi ý"}, format="json"
        )
    )

    assert first.json()["status"] == S.CANCELLED
    assert OutboxEvent.objects.filter(topic="order.cancelled").count() == 1


@pytest.mark.django_db
def test_ops_cancel_and_delivery_failed_sent_twice_answer_the_same_order(place: Any) -> None:
    ops = client_for(UserFactory(roles=[Role.OPS]))
    driver = UserFactory(roles=[Role.DRIVER])
    cancelled_id, failed_id = place().json()["id"], place().json()["id"]
    services.accept_order(order_id=failed_id, actor=None, prep_minutes=10)
    services.assign_driver(order_id=failed_id, driver=driver)
    services.mark_picked_up(order_id=failed_id, driver=driver)

    sent_twice(
        lambda: ops.post(f"/api/v1/ops/orders/{cancelled_id}/cancel", {"reason": "khách gọi"}, format="json")
    )
    sent_twice(
        lambda: ops.post(
            f"/api/v1/ops/orders/{failed_id}/delivery-failed", {"reason": "xe hỏng"}, format="json"
        )
    )

    assert Order.objects.get(pk=cancelled_id).status == S.CANCELLED
    assert Order.objects.get(pk=failed_id).status == S.DELIVERY_FAILED


@pytest.mark.django_db
def test_the_same_action_with_other_inputs_or_by_another_caller_is_still_refused(placed_order: Order) -> None:
    staff = client_for(make_staff(placed_order.merchant))
    colleague = client_for(make_staff(placed_order.merchant))
    url = f"/api/v1/merchant/orders/{placed_order.pk}"
    assert staff.post(f"{url}/accept", {"prep_minutes": 15}, format="json").status_code == 200
    version = Order.objects.get(pk=placed_order.pk).version

    other_minutes = staff.post(f"{url}/accept", {"prep_minutes": 30}, format="json")
    other_staff = colleague.post(f"{url}/accept", {"prep_minutes": 15}, format="json")
    assert staff.post(f"{url}/cancel", {"reason": "Bếp hỏng"}, format="json").status_code == 200
    other_reason = staff.post(f"{url}/cancel", {"reason": "Hết hàng"}, format="json")

    for refused in (other_minutes, other_staff, other_reason):
        assert refused.status_code == 409
    assert other_minutes.json()["error"]["code"] == "order_transition_not_allowed"
    assert other_reason.json()["error"]["code"] == "order_not_cancellable"
    assert Order.objects.get(pk=placed_order.pk).version == version + 1


@pytest.mark.django_db
def test_a_retry_by_the_system_or_another_role_is_not_mistaken_for_the_first(placed_order: Order) -> None:
    services.cancel_order(order_id=placed_order.pk, actor=None, by=ActorRole.OPS, reason="r")

    again = services.cancel_order(order_id=placed_order.pk, actor=None, by=ActorRole.OPS, reason="r")
    with pytest.raises(Exception) as by_the_merchant:
        services.cancel_order(order_id=placed_order.pk, actor=None, by=ActorRole.MERCHANT, reason="r")

    assert again.version == Order.objects.get(pk=placed_order.pk).version
    assert getattr(by_the_merchant.value, "code", None) == "order_not_cancellable"


@pytest.mark.django_db
def test_a_rating_sent_twice_with_one_key_is_counted_once(placed_order: Order, customer_client: Any) -> None:
    driver = UserFactory(roles=[Role.DRIVER])
    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=5)
    services.assign_driver(order_id=placed_order.pk, driver=driver)
    services.mark_picked_up(order_id=placed_order.pk, driver=driver)
    services.mark_delivered(order_id=placed_order.pk, driver=driver)
    url = f"/api/v1/orders/{placed_order.pk}/rating"
    body = {"merchant_stars": 4, "driver_stars": 5, "driver_tags": ["nhanh"]}

    first, _ = sent_twice(
        lambda: customer_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rate-1")
    )
    keyless = customer_client.post(url, body, format="json")

    assert first.status_code == 201
    assert (keyless.status_code, keyless.json()["error"]["code"]) == (409, "order_already_rated")
    placed_order.merchant.refresh_from_db()
    assert placed_order.merchant.rating_count == 1


@pytest.fixture
def menu_tx(transactional_db: None) -> Menu:
    return make_menu()


@pytest.mark.django_db(transaction=True)
def test_identical_retries_racing_write_one_accept(menu_tx: Menu) -> None:
    customer = UserFactory()
    placed = client_for(customer).post(
        "/api/v1/orders", cart_body(menu_tx), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    order_id = placed.json()["id"]
    staff = client_for(make_staff(menu_tx.merchant))

    responses = run_at_once(
        4,
        lambda _: staff.post(
            f"/api/v1/merchant/orders/{order_id}/accept", {"prep_minutes": 12}, format="json"
        ),
    )

    assert Counter(response.status_code for response in responses) == {200: 4}
    assert len({response.json()["version"] for response in responses}) == 1
    assert OrderEvent.objects.filter(order_id=order_id, kind="accepted").count() == 1
    assert OutboxEvent.objects.filter(topic="order.accepted", aggregate_id=str(order_id)).count() == 1
