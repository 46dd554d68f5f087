"""The pure dispatch policy on hand-made rounds: who gets which order, bundling, shift ends, postponement."""

from drivers.dispatch.policy import (
    AvailableDriver,
    DispatchParams,
    EuclideanTravel,
    PendingOrder,
    Point,
    plan_round,
)

# 100 metres a minute: a point's x in hundreds of metres is the minutes it takes from x=0.
PARAMS = DispatchParams(travel=EuclideanTravel(metres_per_minute=100), pickup_service=4, dropoff_service=4)
RESTAURANT = Point(0, 0)
DEFAULT_DROPOFF = Point(1000, 0)


def order(
    order_id: str,
    *,
    ready_at: float = 10,
    dropoff: Point = DEFAULT_DROPOFF,
    merchant: str = "m1",
    pickup: Point = RESTAURANT,
    placed_at: float = 0,
) -> PendingOrder:
    return PendingOrder(order_id, merchant, pickup, dropoff, placed_at, ready_at)


def driver(driver_id: str, *, at: Point, free_at: float = 0, shift_end: float = 600) -> AvailableDriver:
    return AvailableDriver(driver_id, at, free_at, at, shift_end)


def test_one_order_one_driver_is_picked_up_at_ready_time_and_dropped_after_the_direct_drive() -> None:
    [assignment] = plan_round([order("o1", ready_at=10)], [driver("d1", at=Point(800, 0))], 0, PARAMS)

    assert assignment.driver_id == "d1"
    assert assignment.order_ids == ("o1",)
    assert assignment.pickup_at == 10
    assert assignment.dropoff_at == (10 + 2 + 10 + 2,)


def test_the_driver_who_can_arrive_before_ready_wins_over_one_still_busy() -> None:
    drivers = [driver("busy", at=Point(100, 0), free_at=30), driver("far", at=Point(800, 0))]

    [assignment] = plan_round([order("o1", ready_at=10)], drivers, 0, PARAMS)

    assert assignment.driver_id == "far"
    assert assignment.pickup_at == 10


def test_two_orders_of_one_restaurant_ready_together_with_close_dropoffs_go_in_one_bundle() -> None:
    orders = [
        order("o1", ready_at=10, dropoff=Point(1000, 0)),
        order("o2", ready_at=11, dropoff=Point(1000, 100)),
    ]

    [assignment] = plan_round(orders, [driver("d1", at=Point(800, 0))], 1, PARAMS)

    assert assignment.driver_id == "d1"
    assert set(assignment.order_ids) == {"o1", "o2"}
    assert assignment.pickup_at == 11
    assert assignment.dropoff_at[1] - assignment.dropoff_at[0] == 1 + 4  # one minute apart plus service


def test_orders_of_different_restaurants_are_never_bundled() -> None:
    orders = [
        order("o1", ready_at=10, merchant="m1", pickup=Point(0, 0)),
        order("o2", ready_at=10, merchant="m2", pickup=Point(0, 100)),
    ]

    assignments = plan_round(orders, [driver("d1", at=Point(800, 0))], 0, PARAMS)

    assert len(assignments) == 1
    assert len(assignments[0].order_ids) == 1


def test_no_driver_is_sent_to_pick_up_after_its_shift_end() -> None:
    drivers = [driver("leaving", at=Point(100, 0), shift_end=9), driver("staying", at=Point(2500, 0))]

    [assignment] = plan_round([order("o1", ready_at=10)], drivers, 0, PARAMS)

    assert assignment.driver_id == "staying"
    assert plan_round([order("o1", ready_at=10)], drivers[:1], 0, PARAMS) == []


def test_an_order_far_from_ready_is_postponed_then_assigned_in_time() -> None:
    pending = [order("o1", ready_at=30)]
    drivers = [driver("d1", at=Point(800, 0))]

    committed = {now: plan_round(pending, drivers, now, PARAMS) for now in range(30)}

    first_round = min(now for now, assignments in committed.items() if assignments)
    assert first_round == 30 - 2 - 8  # the last round from which d1 still arrives by ready time
    assert committed[first_round][0].pickup_at == 30


def test_postponement_lets_a_later_order_join_the_bundle() -> None:
    drivers = [driver("d1", at=Point(800, 0))]
    first = order("o1", ready_at=20, dropoff=Point(1000, 0))
    second = order("o2", ready_at=20, dropoff=Point(1000, 100), placed_at=5)

    assert plan_round([first], drivers, 0, PARAMS) == []
    [assignment] = plan_round([first, second], drivers, 10, PARAMS)

    assert set(assignment.order_ids) == {"o1", "o2"}


def test_the_same_round_gives_the_same_assignments_whatever_the_input_order() -> None:
    orders = [order(f"o{n}", ready_at=5 + n % 4, dropoff=Point(300 * n, 200)) for n in range(12)]
    drivers = [driver(f"d{n}", at=Point(150 * n, 100 * (n % 3))) for n in range(8)]

    forward = plan_round(orders, drivers, 0, PARAMS)
    backward = plan_round(orders[::-1], drivers[::-1], 0, PARAMS)

    assert forward == backward
    assert forward
    assigned = [order_id for assignment in forward for order_id in assignment.order_ids]
    assert len(assigned) == len(set(assigned))


def test_each_order_and_each_driver_appear_in_at_most_one_assignment() -> None:
    orders = [
        order(f"o{n}", ready_at=4, merchant=f"m{n % 3}", pickup=Point(300 * (n % 3), 0)) for n in range(9)
    ]
    drivers = [driver(f"d{n}", at=Point(100 * n, 100)) for n in range(5)]

    assignments = plan_round(orders, drivers, 0, PARAMS)

    assigned_orders = [order_id for assignment in assignments for order_id in assignment.order_ids]
    assert len(assigned_orders) == len(set(assigned_orders))
    assert len({assignment.driver_id for assignment in assignments}) == len(assignments)
    assert all(len(assignment.order_ids) <= PARAMS.max_bundle_size for assignment in assignments)


def test_a_bundle_is_picked_up_no_earlier_than_its_latest_ready_time() -> None:
    orders = [order("early", ready_at=3), order("late", ready_at=6, dropoff=Point(1100, 0))]

    [assignment] = plan_round(orders, [driver("d1", at=Point(100, 0))], 5, PARAMS)

    assert set(assignment.order_ids) == {"early", "late"}
    assert assignment.pickup_at >= 6


def test_with_no_drivers_nothing_is_assigned_and_orders_wait() -> None:
    assert plan_round([order("o1", ready_at=0)], [], 0, PARAMS) == []


def test_orders_ready_beyond_the_planning_horizon_are_left_for_later_rounds() -> None:
    far_future = order("later", ready_at=PARAMS.planning_horizon + 30)

    assert plan_round([far_future], [driver("d1", at=RESTAURANT)], 0, PARAMS) == []


def test_the_nearer_of_two_idle_drivers_takes_an_order_that_is_ready_now() -> None:
    drivers = [driver("far", at=Point(2000, 0)), driver("near", at=Point(200, 0))]

    [assignment] = plan_round([order("o1", ready_at=0)], drivers, 0, PARAMS)

    assert assignment.driver_id == "near"
    assert assignment.pickup_at == 0 + 2 + 2  # 2 minutes to drive, then half the pickup service
