"""The city simulation's ledger (bench/city/ledger.py) on crafted runs: what it calls lost, doubled and late
is what happened, measured against the faults' heal, so a fault run's report can be trusted to prove a
fix (or its absence)."""

from bench.city.ledger import (
    Attempt,
    Fault,
    InboxRow,
    Notice,
    OrderRecord,
    OrderTruth,
    OutboxRecord,
    PushReceipt,
    Sighting,
    deadline,
    heal,
    http_ledger,
    notification_ledger,
    order_ledger,
    order_stream_ledger,
    outbox_ledger,
    push_ledger,
)

#: Redis down from 100 s to 110 s; everything was working again 3 s after it came back.
OUTAGE = Fault("redis", started_at=100.0, ended_at=110.0, healed_at=113.0)


def test_something_due_during_a_fault_is_due_ten_seconds_after_the_heal() -> None:
    assert deadline(50.0, [OUTAGE]) == 60.0  # long before: its own ten seconds
    assert deadline(95.0, [OUTAGE]) == 123.0  # due at 105, in the outage: the heal + 10 s
    assert deadline(105.0, [OUTAGE]) == 123.0
    assert deadline(200.0, [OUTAGE]) == 210.0  # after the heal: its own ten seconds again


def test_the_heal_is_when_the_slowest_kind_of_work_is_back() -> None:
    fault = Fault("worker", started_at=10.0, ended_at=10.5)
    activity = {"http 2xx": [9.0, 10.6, 12.0], "push": [8.0, 14.5], "offer seen": []}

    healed, back = heal(fault, activity)

    assert back == {"http 2xx": 0.1, "push": 4.0, "offer seen": None}
    assert healed.healed_at == 14.5


def test_notifications_lost_doubled_and_late_are_counted_against_the_heal() -> None:
    expected = [
        Notice(1, "order.accepted", "e1", event_at=90.0),  # arrives at 95: on time
        Notice(1, "order.picked_up", "e2", event_at=104.0),  # in the outage, arrives at 120: on time
        Notice(2, "order.accepted", "e3", event_at=104.0),  # arrives at 130: after heal + 10 s, late
        Notice(3, "merchant.new_order", "e4", event_at=150.0),  # never arrives: lost
    ]
    inbox = [
        InboxRow(11, 1, "order.accepted", "e1", "order:7", created_at=95.0),
        InboxRow(12, 1, "order.picked_up", "e2", "order:7", created_at=120.0),
        InboxRow(13, 2, "order.accepted", "e3", "order:8", created_at=130.0),
        # The same news about the same order again, from a second event: doubled.
        InboxRow(14, 1, "order.accepted", "e9", "order:7", created_at=96.0),
    ]

    found = notification_ledger(expected, inbox, [OUTAGE])

    assert found["expected"] == 4
    assert found["in_inbox"] == 3
    assert found["lost"] == 1
    assert found["lost_kinds"] == {"merchant.new_order": 1}
    assert found["late"] == 1
    assert found["doubled"] == 1
    assert found["unexpected"] == 1


def test_pushes_lost_doubled_and_late_per_device() -> None:
    inbox = [
        InboxRow(21, 1, "order.accepted", "e1", "order:7", created_at=91.0),
        InboxRow(22, 2, "order.accepted", "e2", "order:8", created_at=92.0),
        InboxRow(23, 3, "order.accepted", "e3", "order:9", created_at=93.0),
    ]
    receipts = [
        PushReceipt(21, "phone-1", at=92.0),
        PushReceipt(21, "phone-1", at=93.0),  # the same device twice
        PushReceipt(22, "phone-2", at=200.0),  # long after the heal
    ]
    event_at = {"e1": 90.0, "e2": 91.0, "e3": 92.0}
    tokens = {1: ["phone-1"], 2: ["phone-2"], 3: ["phone-3"]}

    found = push_ledger(inbox, receipts, [OUTAGE], event_at=event_at, tokens=tokens)

    assert found == {
        "expected": 3,
        "attempted": 2,
        "lost": 1,
        "doubled": 1,
        "late": 1,
        "late_by_seconds_max": 77.0,
    }


def test_a_customer_socket_that_did_not_end_on_the_final_status_lost_it() -> None:
    truths = [
        OrderTruth(1, "delivered", [(1, 10.0), (2, 12.0), (3, 20.0)]),
        OrderTruth(2, "cancelled", [(1, 30.0), (2, 31.0), (3, 40.0)]),  # the app never heard of the cancel
        OrderTruth(3, "delivered", [(1, 95.0), (2, 104.0)]),  # version 2 reached the app at 125: late
        OrderTruth(4, "delivered", [(1, 50.0)]),  # no app ever watched it
    ]
    sightings = [
        Sighting(1, 10.1, 1, "placed"),
        Sighting(1, 20.5, 3, "delivered"),  # a snapshot after a gap: version 2 arrives with it, on time
        Sighting(2, 30.1, 1, "placed"),
        Sighting(2, 31.2, 2, "accepted"),
        Sighting(3, 95.1, 1, "placed"),
        Sighting(3, 125.0, 2, "delivered"),
    ]
    connections = [["a", "b", "a"], ["c"], ["c"]]  # one event twice on one socket; once each on two

    found = order_stream_ledger(truths, sightings, [OUTAGE], connections=connections)

    assert found["lost_orders"] == [2, 4]
    assert found["late_versions"] == 1
    assert found["late_orders"] == 1
    assert found["doubled"] == 1


def test_http_counts_5xx_by_endpoint_and_the_retries_told_no() -> None:
    attempts = [
        Attempt("POST /driver/jobs/{id}/steps", at=104.0, status=500),
        Attempt(
            "POST /driver/jobs/{id}/steps",
            at=105.0,
            status=409,
            retry=True,
            code="job_transition_not_allowed",
        ),
        Attempt("POST /merchant/orders/{id}/ready", at=50.0, status=409, code="order_transition_not_allowed"),
        Attempt("POST /api/v1/orders", at=106.0, status=None),
        Attempt("POST /api/v1/orders", at=107.0, status=201, retry=True),
        Attempt("GET /driver/jobs/{id}", at=300.0, status=502),
    ]

    found = http_ledger(attempts, [OUTAGE])

    assert found["5xx"] == {"GET /driver/jobs/{id}": 1, "POST /driver/jobs/{id}/steps": 1}
    assert found["5xx_by_fault"] == {"none": 1, "redis": 1}
    assert found["no_answer"] == {"POST /api/v1/orders": 1}
    # A first-time refusal is the app's business; a retry refused means the first try's work was done.
    assert found["retries_refused"] == {"POST /driver/jobs/{id}/steps -> 409 job_transition_not_allowed": 1}


def test_orders_stuck_doubled_or_with_a_gap_and_the_outbox() -> None:
    orders = [
        OrderRecord(
            1, "delivered", "", [(1, "placed"), (2, "accepted"), (3, "picked_up"), (4, "delivered")], [7]
        ),
        OrderRecord(2, "accepted", "", [(1, "placed"), (3, "accepted")], []),  # a gap, still open
        OrderRecord(3, "picked_up", "", [(1, "placed"), (2, "accepted"), (3, "accepted")], [7, 8]),
        OrderRecord(4, "cancelled", "merchant_timeout", [(1, "placed"), (2, "cancelled")], []),
    ]
    outbox = [
        OutboxRecord("a", "order:1", 1, published=True, given_up=False),
        OutboxRecord("b", "order:1", 1, published=True, given_up=False),
        OutboxRecord("c", "order:2", 1, published=False, given_up=False),
        OutboxRecord("d", "offer:5", 0, published=True, given_up=True),
        OutboxRecord("e", "offer:5", 0, published=True, given_up=False),
    ]

    found = order_ledger(orders, acknowledged=[1, 2, 3])
    events = outbox_ledger(outbox)

    assert (found["placed"], found["delivered"], found["cancelled"]) == (4, 1, 1)
    assert found["cancel_reasons"] == {"merchant_timeout": 1}
    assert found["stuck"] == [2, 3]
    assert found["sequence_gaps"] == [2]
    assert found["repeated_transitions"] == [3]
    assert found["two_drivers"] == [3]
    assert found["unacknowledged"] == [4]
    assert events == {"events": 5, "unpublished": 1, "given_up": 1, "doubled_sequence": 1}
