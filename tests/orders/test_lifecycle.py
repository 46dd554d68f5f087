"""The state machine: every legal step writes history and an outbox event; every illegal one is a 409."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loship.errors import ApplicationError
from loship.events.models import OutboxEvent
from orders import services
from orders.models import ActorRole, LedgerEntry, Order, OrderEvent, OrderStatus, PaymentStatus
from orders.tasks import sweep_deadlines
from tests.factories import UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db

S = OrderStatus


@pytest.fixture
def driver() -> Any:
    return UserFactory(roles=[Role.DRIVER])


@pytest.fixture
def ops() -> Any:
    return UserFactory(roles=[Role.OPS])


def advance(order: Order, to: str, driver: Any) -> Order:
    """Walk a placed order along the lifecycle until it is in `to` (a driver is assigned first)."""
    path = [S.ACCEPTED, S.PREPARING, S.READY_FOR_PICKUP, S.PICKED_UP, S.DELIVERED]
    steps: dict[str, Callable[[], Order]] = {
        S.ACCEPTED: lambda: services.accept_order(order_id=order.pk, actor=None, prep_minutes=10),
        S.PREPARING: lambda: services.mark_preparing(order_id=order.pk, actor=None),
        S.READY_FOR_PICKUP: lambda: services.mark_ready(order_id=order.pk, actor=None),
        S.PICKED_UP: lambda: services.mark_picked_up(order_id=order.pk, driver=driver),
        S.DELIVERED: lambda: services.mark_delivered(order_id=order.pk, driver=driver),
    }
    services.assign_driver(order_id=order.pk, driver=driver, actor=driver)
    if to in path:
        for status in path[: path.index(to) + 1]:
            steps[status]()
    elif to == S.REJECTED:
        services.reject_order(order_id=order.pk, actor=None, reason="hết món")
    elif to == S.CANCELLED:
        services.cancel_order(order_id=order.pk, actor=None, by=ActorRole.OPS, reason="test")
    elif to == S.DELIVERY_FAILED:
        for status in path[:4]:
            steps[status]()
        services.mark_delivery_failed(order_id=order.pk, actor=driver, reason="không liên lạc được")
    return Order.objects.get(pk=order.pk)


def test_the_happy_path_writes_one_event_and_one_outbox_row_per_step(
    placed_order: Order, driver: Any
) -> None:
    order = advance(placed_order, S.DELIVERED, driver)

    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == ["placed", "driver_assigned", "accepted", "preparing", "ready_for_pickup", "picked_up",
                     "delivered"]  # fmt: skip
    assert order.version == len(kinds)
    topics = list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=str(order.pk))
        .order_by("sequence")
        .values_list("topic", "sequence")
    )
    assert topics == [(f"order.{kind}", n) for n, kind in enumerate(kinds, start=1)]
    assert order.payment_status == PaymentStatus.PAID
    kinds_booked = LedgerEntry.objects.filter(order=order).order_by("id").values_list("kind", flat=True)
    assert list(kinds_booked) == ["cod_collected", "sale", "commission", "order_fees"]


def test_accepting_sets_the_eta_from_the_preparation_time(placed_order: Order) -> None:
    order = services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=25)

    assert order.prep_minutes == 25
    assert order.eta is not None and order.eta > timezone.now() + timedelta(minutes=25)
    assert order.merchant_accept_deadline is None


ALL_ACTIONS: dict[str, Callable[[Order, Any], Any]] = {
    "accept": lambda o, d: services.accept_order(order_id=o.pk, actor=None, prep_minutes=10),
    "reject": lambda o, d: services.reject_order(order_id=o.pk, actor=None, reason="x"),
    "preparing": lambda o, d: services.mark_preparing(order_id=o.pk, actor=None),
    "ready": lambda o, d: services.mark_ready(order_id=o.pk, actor=None),
    "picked_up": lambda o, d: services.mark_picked_up(order_id=o.pk, driver=d),
    "delivered": lambda o, d: services.mark_delivered(order_id=o.pk, driver=d),
    "delivery_failed": lambda o, d: services.mark_delivery_failed(order_id=o.pk, actor=d, reason="x"),
}
LEGAL = {
    S.PLACED: {"accept", "reject"},
    S.ACCEPTED: {"preparing", "ready", "picked_up"},
    S.PREPARING: {"ready", "picked_up"},
    S.READY_FOR_PICKUP: {"picked_up"},
    S.PICKED_UP: {"delivered", "delivery_failed"},
    S.DELIVERED: set(),
    S.REJECTED: set(),
    S.CANCELLED: set(),
    S.DELIVERY_FAILED: set(),
}
#: The same action again by the same caller with the same inputs as `advance` used: a retry, not a move.
REPLAYS = {
    (S.ACCEPTED, "accept"),
    (S.PREPARING, "preparing"),
    (S.READY_FOR_PICKUP, "ready"),
    (S.PICKED_UP, "picked_up"),
    (S.DELIVERED, "delivered"),
}
ILLEGAL = [
    (status, action)
    for status, legal in LEGAL.items()
    for action in ALL_ACTIONS
    if action not in legal and (status, action) not in REPLAYS
]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_every_illegal_transition_is_a_409_and_changes_nothing(
    placed_order: Order, driver: Any, status: str, action: str
) -> None:
    order = advance(placed_order, status, driver)
    version = order.version

    with pytest.raises(ApplicationError) as refused:
        ALL_ACTIONS[action](order, driver)

    assert refused.value.status == 409
    assert refused.value.code in {"order_transition_not_allowed", "order_not_assigned_to_driver"}
    order.refresh_from_db()
    assert (order.status, order.version) == (status, version)


@pytest.mark.parametrize(("status", "action"), sorted(REPLAYS))
def test_the_same_transition_again_returns_the_order_and_writes_nothing(
    placed_order: Order, driver: Any, status: str, action: str
) -> None:
    order = advance(placed_order, status, driver)
    outbox = OutboxEvent.objects.count()

    again = ALL_ACTIONS[action](order, driver)

    assert (again.status, again.version) == (status, order.version)
    assert OrderEvent.objects.filter(order=order).count() == order.version
    assert OutboxEvent.objects.count() == outbox


@pytest.mark.parametrize(
    ("status", "by", "allowed"),
    [
        (S.PLACED, ActorRole.CUSTOMER, True),
        (S.ACCEPTED, ActorRole.CUSTOMER, False),
        (S.ACCEPTED, ActorRole.MERCHANT, True),
        (S.READY_FOR_PICKUP, ActorRole.OPS, True),
        (S.PICKED_UP, ActorRole.OPS, False),
        (S.DELIVERED, ActorRole.OPS, False),
        (S.ACCEPTED, ActorRole.SYSTEM, False),
        (S.CANCELLED, ActorRole.OPS, False),
    ],
)
def test_who_may_cancel_when(placed_order: Order, driver: Any, status: str, by: str, allowed: bool) -> None:
    order = advance(placed_order, status, driver)

    if allowed:
        cancelled = services.cancel_order(order_id=order.pk, actor=None, by=by, reason="r")
        assert (cancelled.status, cancelled.cancelled_by) == (S.CANCELLED, by)
        assert OutboxEvent.objects.filter(topic="order.cancelled", aggregate_id=str(order.pk)).exists()
    else:
        with pytest.raises(ApplicationError) as refused:
            services.cancel_order(order_id=order.pk, actor=None, by=by, reason="r")
        assert (refused.value.status, refused.value.code) == (409, "order_not_cancellable")


def test_another_driver_cannot_take_or_move_an_assigned_order(placed_order: Order, driver: Any) -> None:
    other = UserFactory(roles=[Role.DRIVER])
    services.assign_driver(order_id=placed_order.pk, driver=driver, actor=driver)
    services.accept_order(order_id=placed_order.pk, actor=None, prep_minutes=5)

    with pytest.raises(ApplicationError) as taken:
        services.assign_driver(order_id=placed_order.pk, driver=other, actor=other)
    with pytest.raises(ApplicationError) as moved:
        services.mark_picked_up(order_id=placed_order.pk, driver=other)

    assert taken.value.code == "order_driver_already_assigned"
    assert moved.value.code == "order_not_assigned_to_driver"


def test_assigning_the_same_driver_twice_is_one_event(placed_order: Order, driver: Any) -> None:
    services.assign_driver(order_id=placed_order.pk, driver=driver, actor=driver)
    services.assign_driver(order_id=placed_order.pk, driver=driver, actor=driver)

    assert OrderEvent.objects.filter(order=placed_order, kind="driver_assigned").count() == 1


def test_unassigning_returns_the_order_to_the_pool(placed_order: Order, driver: Any) -> None:
    services.assign_driver(order_id=placed_order.pk, driver=driver, actor=None)

    order = services.unassign_driver(
        order_id=placed_order.pk, driver=driver, actor=None, reason="offer expired"
    )

    assert order.driver is None
    event = OutboxEvent.objects.get(topic="order.driver_unassigned")
    assert event.payload["driver_id"] is None
    assert event.payload["reason"] == "offer expired"


def test_the_sweep_cancels_orders_the_merchant_did_not_answer(placed_order: Order, customer: Any) -> None:
    Order.objects.filter(pk=placed_order.pk).update(
        merchant_accept_deadline=timezone.now() - timedelta(seconds=1)
    )

    first = sweep_deadlines()
    second = sweep_deadlines()

    placed_order.refresh_from_db()
    assert (placed_order.status, placed_order.cancelled_by) == (S.CANCELLED, ActorRole.SYSTEM)
    assert placed_order.status_reason == "merchant_timeout"
    assert (first["merchant_timeouts"], second["merchant_timeouts"]) == (1, 0)
    event = OutboxEvent.objects.get(topic="order.cancelled")
    assert (event.payload["customer_id"], event.payload["reason"]) == (customer.pk, "merchant_timeout")


def test_the_sweep_leaves_orders_whose_deadline_is_ahead(placed_order: Order) -> None:
    assert sweep_deadlines()["merchant_timeouts"] == 0
    placed_order.refresh_from_db()
    assert placed_order.status == S.PLACED


def test_a_cancelled_order_gives_its_promo_use_back(place: Callable[..., Any]) -> None:
    from tests.orders.factories import make_promotion

    promo = make_promotion(usage_limit=1)
    order_id = place(promo_code=promo.code).json()["id"]
    promo.refresh_from_db()
    assert promo.used_count == 1

    services.cancel_order(order_id=order_id, actor=None, by=ActorRole.CUSTOMER)

    promo.refresh_from_db()
    assert promo.used_count == 0
    assert place(promo_code=promo.code).status_code == 201


# A scheduled order (cancellable by all four until it is released) is walked in test_scheduled_orders.
CANCELLABLE_BY = {
    ActorRole.CUSTOMER: {S.SCHEDULED, S.PLACED},
    ActorRole.SYSTEM: {S.SCHEDULED, S.PLACED},
    ActorRole.MERCHANT: {S.SCHEDULED, S.PLACED, S.ACCEPTED, S.PREPARING, S.READY_FOR_PICKUP},
    ActorRole.OPS: {S.SCHEDULED, S.PLACED, S.ACCEPTED, S.PREPARING, S.READY_FOR_PICKUP},
}


@pytest.mark.parametrize(
    ("status", "by"),
    [(status, by) for by, allowed in CANCELLABLE_BY.items() for status in S.values if status not in allowed],
)
def test_every_refused_cancellation_is_a_409_and_changes_nothing(
    placed_order: Order, driver: Any, status: str, by: str
) -> None:
    order = advance(placed_order, status, driver)
    before = (order.status, order.version, order.payment_status)
    outbox = OutboxEvent.objects.count()

    with pytest.raises(ApplicationError) as refused:
        services.cancel_order(order_id=order.pk, actor=None, by=by, reason="r")

    assert (refused.value.status, refused.value.code) == (409, "order_not_cancellable")
    order.refresh_from_db()
    assert (order.status, order.version, order.payment_status) == before
    assert OutboxEvent.objects.count() == outbox


@pytest.mark.parametrize("status", [S.PICKED_UP, S.DELIVERED, S.REJECTED, S.CANCELLED, S.DELIVERY_FAILED])
def test_no_driver_is_assigned_or_unassigned_after_pickup_or_in_a_final_state(
    placed_order: Order, driver: Any, status: str
) -> None:
    order = advance(placed_order, status, driver)
    other = UserFactory(roles=[Role.DRIVER])
    version = order.version

    with pytest.raises(ApplicationError) as assigned:
        services.assign_driver(order_id=order.pk, driver=other)
    with pytest.raises(ApplicationError) as unassigned:
        services.unassign_driver(order_id=order.pk, driver=driver)

    # A second driver is either refused as a transition or because one is already assigned.
    assert assigned.value.status == 409
    assert (unassigned.value.status, unassigned.value.code) == (409, "order_transition_not_allowed")
    order.refresh_from_db()
    assert order.version == version


@pytest.mark.parametrize("status", [S.DELIVERED, S.REJECTED, S.CANCELLED, S.DELIVERY_FAILED])
def test_a_finished_order_takes_no_new_eta(placed_order: Order, driver: Any, status: str) -> None:
    order = advance(placed_order, status, driver)

    with pytest.raises(ApplicationError) as refused:
        services.update_eta(order_id=order.pk, eta=timezone.now())

    assert (refused.value.status, refused.value.code) == (409, "order_transition_not_allowed")


def test_only_the_assigned_driver_or_ops_report_a_failed_delivery(placed_order: Order, driver: Any) -> None:
    order = advance(placed_order, S.PICKED_UP, driver)
    stranger = UserFactory(roles=[Role.DRIVER])
    ops = UserFactory(roles=[Role.OPS])

    with pytest.raises(ApplicationError) as refused:
        services.mark_delivery_failed(order_id=order.pk, actor=stranger, reason="x")
    failed = services.mark_delivery_failed(order_id=order.pk, actor=ops, reason="khách không nghe máy")

    assert refused.value.code == "order_not_assigned_to_driver"
    assert failed.status == S.DELIVERY_FAILED
    event = OrderEvent.objects.get(order=order, kind="delivery_failed")
    assert (event.actor_role, event.reason, event.from_status) == ("ops", "khách không nghe máy", S.PICKED_UP)


def test_every_transition_records_who_when_from_to_and_why(placed_order: Order, driver: Any) -> None:
    staff = UserFactory(roles=[Role.MERCHANT_STAFF])
    services.reject_order(order_id=placed_order.pk, actor=staff, reason="Hết phở")

    event = OrderEvent.objects.get(order=placed_order, kind="rejected")
    outbox = OutboxEvent.objects.get(topic="order.rejected")
    assert (event.actor, event.actor_role) == (staff, "merchant")
    assert (event.from_status, event.to_status, event.reason) == (S.PLACED, S.REJECTED, "Hết phở")
    assert event.created_at is not None
    assert (outbox.sequence, outbox.payload["status"], outbox.payload["reason"]) == (2, "rejected", "Hết phở")


@pytest.mark.parametrize(
    ("action", "body"),
    [("accept", {"prep_minutes": 5}), ("reject", {"reason": "x"}), ("preparing", {}), ("ready", {}),
     ("cancel", {"reason": "x"})],
)  # fmt: skip
def test_merchant_actions_on_a_finished_order_are_409_over_the_api(
    placed_order: Order, driver: Any, action: str, body: dict[str, Any]
) -> None:
    from tests.orders.conftest import client_for
    from tests.orders.factories import make_staff

    order = advance(placed_order, S.DELIVERED, driver)
    staff = client_for(make_staff(order.merchant))

    response = staff.post(f"/api/v1/merchant/orders/{order.pk}/{action}", body, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] in {"order_transition_not_allowed", "order_not_cancellable"}
    assert response.json()["error"]["message"]


def test_a_new_eta_is_recorded_with_who_gave_it(placed_order: Order, driver: Any, ops: Any) -> None:
    services.assign_driver(order_id=placed_order.pk, driver=driver)
    eta = timezone.now() + timedelta(minutes=42)

    services.update_eta(order_id=placed_order.pk, eta=eta)
    services.update_eta(order_id=placed_order.pk, eta=eta, actor=driver)
    order = services.update_eta(order_id=placed_order.pk, eta=eta, actor=ops)

    roles = list(
        OrderEvent.objects.filter(order=order, kind="eta_updated").values_list("actor_role", flat=True)
    )
    assert roles == ["system", "driver", "ops"]
    assert order.eta == eta
    assert OutboxEvent.objects.filter(topic="order.eta_updated").count() == 3
