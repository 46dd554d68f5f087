"""Scheduled orders: a slot (quarter hours, up to two days ahead, while the merchant is open to cook it)
chosen at placement, priced then, free to cancel until it is released to the merchant by the sweep,
listed among the merchant's upcoming orders, and dispatched for the slot.

The clock is pinned to Monday 2026-11-30, 10:00 in Ho Chi Minh City (decision 6)."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from drivers.services.pool import enter_pool
from loship.events.models import OutboxEvent
from merchants.models import ClosedDate, Merchant, OpeningHours
from merchants.selectors import LOCAL_TZ
from orders import services
from orders.models import ActorRole, Order, OrderEvent, OrderStatus
from orders.services.scheduling import release_due_orders
from tests.concurrency import race
from tests.factories import UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import Menu, cart_body, make_menu, make_staff
from tests.retries import sent_twice
from users.models import Role

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, WEDNESDAY = 30, 1, 2
MON, TUE = 0, 1  # weekdays
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=LOCAL_TZ)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in Ho Chi Minh City on Monday 30 Nov, Tuesday 1 or Wednesday 2 Dec 2026."""
    month = 11 if day == MONDAY else 12
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def _monday_ten_am() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW.astimezone(UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def schedule(customer_client: APIClient, menu: Menu) -> Callable[..., Any]:
    """POST the standard cart for `slot` (plus overrides) with a fresh key; returns the response."""
    counter = iter(range(1, 10_000))

    def _schedule(slot: datetime | None, language: str = "vi", **overrides: Any) -> Any:
        body = cart_body(menu, scheduled_for=slot.isoformat() if slot else None, **overrides)
        return customer_client.post(
            "/api/v1/orders",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"slot-{next(counter)}",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    return _schedule


def ride_minutes(distance_m: int) -> int:
    """Travel at the default 20 km/h plus the 10 minutes' handover buffer."""
    return max(1, round(distance_m / (20_000 / 60))) + 10


def expected_release(slot: datetime, *, distance_m: int, prep_minutes: int = 15) -> datetime:
    """The slot minus the ride, the kitchen's preparation and the merchant's 5 minutes to answer."""
    return slot - timedelta(minutes=ride_minutes(distance_m) + prep_minutes + 5)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def scheduled(schedule: Callable[..., Any], slot: datetime) -> Order:
    response = schedule(slot)
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def only_hours(merchant: Merchant, *intervals: tuple[int, time, time]) -> None:
    OpeningHours.objects.filter(merchant=merchant).delete()
    OpeningHours.objects.bulk_create(
        OpeningHours(merchant=merchant, weekday=weekday, opens_at=opens, closes_at=closes)
        for weekday, opens, closes in intervals
    )


# --- Placement ---------------------------------------------------------------------------------------


def test_a_cash_order_for_a_slot_is_priced_now_and_waits_scheduled_until_its_release(
    schedule: Callable[..., Any], customer_client: APIClient, menu: Menu
) -> None:
    slot = at(MONDAY, 12, 30)
    quote = customer_client.post(
        "/api/v1/orders/quote", cart_body(menu, scheduled_for=slot.isoformat()), format="json"
    ).json()

    response = schedule(slot)

    assert response.status_code == 201, response.json()
    body = response.json()
    release = expected_release(slot, distance_m=body["distance_m"])
    assert body["status"] == "scheduled"
    assert parse(body["scheduled_for"]) == slot
    assert parse(body["release_at"]) == release
    assert parse(body["eta"]) == slot
    assert parse(body["promised_at"]) == parse(quote["promised_at"]) == slot  # promised its slot
    assert body["merchant_accept_deadline"] is None
    assert body["total_vnd"] == quote["total_vnd"] == 85_000 + body["delivery_fee_vnd"] + 3_000
    assert parse(quote["release_at"]) == release
    assert [(e["kind"], e["to_status"]) for e in body["timeline"]] == [("scheduled", "scheduled")]
    order = Order.objects.get(pk=body["id"])
    assert OutboxEvent.objects.filter(aggregate_id=order.pk, topic="order.scheduled").count() == 1


def test_a_merchant_closed_or_busy_now_still_takes_an_order_for_when_it_is_open(
    schedule: Callable[..., Any], menu: Menu
) -> None:
    only_hours(menu.merchant, (MON, time(18), time(22)))
    Merchant.objects.filter(pk=menu.merchant.pk).update(is_busy=True)

    now_response = schedule(None)
    evening = schedule(at(MONDAY, 19, 0))

    assert now_response.json()["error"]["code"] == "merchant_closed"
    assert evening.status_code == 201, evening.json()
    assert evening.json()["status"] == "scheduled"


@pytest.mark.parametrize(
    ("slot", "status", "code"),
    [
        (at(MONDAY, 12, 7), 400, "slot_not_on_step"),
        (at(MONDAY, 10, 30), 422, "slot_too_soon"),  # released at 09:56: already past
        (at(MONDAY, 9, 0), 422, "slot_too_soon"),
        (at(WEDNESDAY, 10, 15), 422, "slot_too_far"),
    ],
)
def test_a_slot_off_the_steps_too_soon_or_too_far_is_refused_and_nothing_is_written(
    schedule: Callable[..., Any], slot: datetime, status: int, code: str
) -> None:
    outbox = OutboxEvent.objects.count()

    response = schedule(slot)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not Order.objects.exists()
    assert OutboxEvent.objects.count() == outbox


def test_too_soon_names_the_earliest_slot_and_that_slot_is_accepted(schedule: Callable[..., Any]) -> None:
    refused = schedule(at(MONDAY, 10, 15)).json()["error"]

    earliest = parse(refused["earliest_slot"])
    accepted = schedule(earliest)

    assert earliest == at(MONDAY, 10, 45)  # 10:30 would be released at 09:56, 10:45 at 10:11
    assert accepted.status_code == 201, accepted.json()
    assert schedule(earliest - timedelta(minutes=15)).json()["error"]["code"] == "slot_too_soon"


def test_the_last_slot_two_days_ahead_is_accepted(schedule: Callable[..., Any]) -> None:
    assert schedule(at(WEDNESDAY, 10, 0)).status_code == 201


def test_the_refusal_is_in_the_callers_language(schedule: Callable[..., Any]) -> None:
    english = schedule(at(WEDNESDAY, 12, 0), language="en").json()["error"]
    vietnamese = schedule(at(WEDNESDAY, 12, 0), language="vi").json()["error"]

    assert english["message"] == "A slot can be at most 2 days ahead."
    assert vietnamese["message"] == "Chỉ đặt trước được tối đa 2 ngày."
    assert english["max_days"] == 2


# --- Opening hours: past midnight and closed dates ------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "closed", "accepted"),
    [
        (at(TUESDAY, 23, 0), None, True),
        (at(WEDNESDAY, 1, 30), None, True),  # the tail of Tuesday's 18:00-02:00
        (at(WEDNESDAY, 2, 30), None, False),  # cooked 01:56-02:16: the kitchen closes at 02:00
        (at(WEDNESDAY, 2, 15), None, False),
        (at(WEDNESDAY, 2, 0), None, True),  # food due 01:46
        (at(TUESDAY, 18, 15), None, False),  # released 17:41, before it opens
        (at(TUESDAY, 18, 45), None, True),  # released 18:11
        (at(TUESDAY, 13, 0), None, False),
        (at(WEDNESDAY, 1, 30), date(2026, 12, 1), False),  # Tuesday closed shuts its tail too
        (at(WEDNESDAY, 1, 30), date(2026, 12, 2), True),  # Wednesday closed: Tuesday's tail stands
        (at(TUESDAY, 23, 0), date(2026, 12, 1), False),
    ],
)
def test_a_slot_needs_the_merchant_open_from_release_until_the_food_is_due(
    schedule: Callable[..., Any], menu: Menu, slot: datetime, closed: date | None, accepted: bool
) -> None:
    only_hours(menu.merchant, (TUE, time(18), time(2)))
    if closed is not None:
        ClosedDate.objects.create(merchant=menu.merchant, date=closed, reason="Nghỉ lễ")

    response = schedule(slot)

    if accepted:
        assert response.status_code == 201, response.json()
    else:
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "slot_outside_opening_hours"


def test_a_gap_in_the_day_inside_the_kitchen_window_refuses_the_slot(
    schedule: Callable[..., Any], menu: Menu
) -> None:
    # Lunch until 12:00, dinner from 12:15: a kitchen window 11:51-12:16 straddles the gap.
    only_hours(menu.merchant, (MON, time(6), time(12)), (MON, time(12, 15), time(22)))

    assert schedule(at(MONDAY, 12, 30)).json()["error"]["code"] == "slot_outside_opening_hours"
    assert schedule(at(MONDAY, 13, 0)).status_code == 201


# --- Release -------------------------------------------------------------------------------------------


def test_the_sweep_releases_an_order_at_its_release_time_once(
    schedule: Callable[..., Any], _monday_ten_am: time_machine.Coordinates
) -> None:
    order = scheduled(schedule, at(MONDAY, 13, 0))
    release = order.release_at
    assert release is not None

    _monday_ten_am.move_to(release - timedelta(seconds=1))
    early = release_due_orders()
    _monday_ten_am.move_to(release)
    released = release_due_orders()
    again = release_due_orders()

    order.refresh_from_db()
    assert (early, released, again) == ([], [order.pk], [])
    assert order.status == OrderStatus.PLACED
    assert order.merchant_accept_deadline == release + timedelta(minutes=5)
    event = order.events.order_by("-version").first()
    assert event is not None
    assert (event.kind, event.from_status, event.to_status, event.actor_role, event.actor_id) == (
        "placed",
        "scheduled",
        "placed",
        ActorRole.SYSTEM,
        None,
    )
    assert OutboxEvent.objects.filter(aggregate_id=order.pk, topic="order.placed").count() == 1


def test_two_sweeps_at_once_release_each_order_exactly_once(
    transactional_db: None, schedule: Callable[..., Any], _monday_ten_am: time_machine.Coordinates
) -> None:
    orders = [scheduled(schedule, at(MONDAY, 13, minute)) for minute in (0, 15, 30, 45)]
    _monday_ten_am.move_to(at(MONDAY, 14, 0))

    results = race([lambda: release_due_orders(batch=2), lambda: release_due_orders(batch=2)] * 2)

    assert not [r for r in results if isinstance(r, Exception)], results
    released = sorted(pk for batch in results for pk in batch)
    assert released == sorted(order.pk for order in orders)
    placed = OrderEvent.objects.filter(kind="placed", from_status="scheduled")
    assert sorted(placed.values_list("order_id", flat=True)) == released


def test_a_cancel_racing_the_release_leaves_one_cancelled_order_and_at_most_one_release(
    transactional_db: None, schedule: Callable[..., Any], _monday_ten_am: time_machine.Coordinates
) -> None:
    order = scheduled(schedule, at(MONDAY, 13, 0))
    _monday_ten_am.move_to(order.release_at)

    results = race(
        [
            release_due_orders,
            lambda: services.cancel_order(
                order_id=order.pk, actor=order.customer, by=ActorRole.CUSTOMER, reason="đổi ý"
            ),
        ]
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.events.filter(kind="placed", from_status="scheduled").count() <= 1
    assert order.events.filter(kind="cancelled").count() == 1


def test_an_order_released_then_accepted_early_is_still_due_at_its_slot_and_dispatched_for_it(
    schedule: Callable[..., Any], menu: Menu, _monday_ten_am: time_machine.Coordinates
) -> None:
    slot = at(MONDAY, 13, 0)
    order = scheduled(schedule, slot)
    _monday_ten_am.move_to(order.release_at)
    release_due_orders()

    accepted = services.accept_order(order_id=order.pk, actor=None, prep_minutes=5)
    request = enter_pool(order_id=order.pk)

    food_due = slot - timedelta(minutes=ride_minutes(order.distance_m))
    assert accepted.eta == slot  # cooking 5 minutes would be early: still delivered at the slot
    assert accepted.promised_at is not None and accepted.promised_at >= slot  # never before the slot
    assert request is not None
    assert request.ready_at == food_due
    assert request.dispatchable_at == food_due - timedelta(minutes=12)


# --- Cancelling and the merchant's side ------------------------------------------------------------------


def test_a_customer_cancels_a_scheduled_order_for_free_until_it_is_released(
    schedule: Callable[..., Any], customer_client: APIClient
) -> None:
    order = scheduled(schedule, at(MONDAY, 13, 0))
    stranger = client_for(UserFactory())

    strangers = stranger.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "bận"}, format="json")
    still_scheduled = Order.objects.get(pk=order.pk).status
    response = customer_client.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "bận"}, format="json")

    assert (strangers.status_code, still_scheduled) == (404, OrderStatus.SCHEDULED)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    order.refresh_from_db()
    assert order.cancelled_by == ActorRole.CUSTOMER
    assert release_due_orders(now=order.release_at) == []


def test_a_merchant_cannot_accept_a_scheduled_order_before_it_is_released(
    schedule: Callable[..., Any], menu: Menu
) -> None:
    order = scheduled(schedule, at(MONDAY, 13, 0))
    staff = client_for(make_staff(menu.merchant))

    response = staff.post(f"/api/v1/merchant/orders/{order.pk}/accept", {"prep_minutes": 10}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_transition_not_allowed"
    order.refresh_from_db()
    assert order.status == OrderStatus.SCHEDULED


def test_merchant_staff_see_their_own_upcoming_orders_soonest_first_until_released(
    schedule: Callable[..., Any], menu: Menu, _monday_ten_am: time_machine.Coordinates
) -> None:
    late = scheduled(schedule, at(TUESDAY, 12, 0))
    soon = scheduled(schedule, at(MONDAY, 13, 0))
    own_staff = make_staff(menu.merchant)
    own = client_for(own_staff)
    other_menu = make_menu()
    other = client_for(make_staff(other_menu.merchant))
    stranger_order = scheduled(
        lambda slot: _place_for(other_menu, slot), at(MONDAY, 14, 0)
    )  # another merchant's upcoming order

    listed = own.get("/api/v1/merchant/orders/upcoming").json()
    others = other.get("/api/v1/merchant/orders/upcoming").json()
    others_detail = other.get(f"/api/v1/merchant/orders/{soon.pk}")
    _monday_ten_am.move_to(soon.release_at)
    release_due_orders()
    # Signed in again: the access token of 10:00 has expired by the release.
    after_release = client_for(own_staff).get("/api/v1/merchant/orders/upcoming").json()

    assert [row["id"] for row in listed["results"]] == [soon.pk, late.pk]
    assert parse(listed["results"][0]["release_at"]) == soon.release_at
    assert parse(listed["results"][0]["scheduled_for"]) == at(MONDAY, 13, 0)
    assert [row["id"] for row in others["results"]] == [stranger_order.pk]
    assert others_detail.status_code == 404
    assert [row["id"] for row in after_release["results"]] == [late.pk]
    assert client_for(UserFactory()).get("/api/v1/merchant/orders/upcoming").status_code == 403
    assert stranger_order.status == OrderStatus.SCHEDULED


def _place_for(menu: Menu, slot: datetime) -> Any:
    return client_for(UserFactory()).post(
        "/api/v1/orders",
        cart_body(menu, scheduled_for=slot.isoformat()),
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"other-{slot.isoformat()}",
    )


def test_the_merchants_staff_are_told_of_a_new_scheduled_order_with_its_slot(
    schedule: Callable[..., Any], menu: Menu
) -> None:
    from notifications.templates import render
    from orders.notifications import order_notices

    staff = make_staff(menu.merchant)
    order = scheduled(schedule, at(TUESDAY, 12, 0))
    event = OutboxEvent.objects.get(aggregate_id=order.pk, topic="order.scheduled")

    notices = order_notices(event)

    assert [(n.user.pk, n.kind) for n in notices] == [(staff.pk, "merchant.new_scheduled_order")]
    title, body = render(notices[0].kind, language="en", context=notices[0].context)
    assert title == f"Scheduled order {order.code}"
    assert "to deliver at 12:00 01/12" in body


def test_ops_filter_the_admin_for_upcoming_scheduled_orders(
    schedule: Callable[..., Any], place: Callable[..., Any]
) -> None:
    upcoming = scheduled(schedule, at(TUESDAY, 12, 0))
    now_order = place()
    browser = Client()
    browser.force_login(UserFactory(roles=[Role.OPS], is_staff=True))

    page = browser.get("/admin/orders/order/?schedule=upcoming").content.decode()
    asap = browser.get("/admin/orders/order/?schedule=asap").content.decode()

    assert upcoming.code in page and now_order.json()["code"] not in page
    assert now_order.json()["code"] in asap and upcoming.code not in asap


def test_a_cancel_sent_again_answers_as_before_and_writes_nothing(
    schedule: Callable[..., Any], customer_client: APIClient
) -> None:
    order = scheduled(schedule, at(MONDAY, 13, 0))

    sent_twice(
        lambda: customer_client.post(f"/api/v1/orders/{order.pk}/cancel", {"reason": "x"}, format="json")
    )
