"""The outbox relay: each event reaches each destination once, in order per aggregate, and one failing
destination neither blocks nor repeats the others."""

import random
import select
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction

from loship.events.listener import CHANNEL, publish_all
from loship.events.models import OutboxEvent
from loship.events.relay import publish_pending
from loship.events.services import record_event
from loship.events.subscribers import subscribe, unsubscribe

TOPIC = "relaytest."


class Recorder:
    """A destination that remembers what it got, and can be told to fail."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[tuple[str, int]] = []
        self.failures_left = 0
        self.fail_always = False
        self.delay = 0.0
        self.lock = threading.Lock()

    def __call__(self, event: OutboxEvent) -> None:
        if self.fail_always or self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError(f"{self.name} is down")
        if self.delay:
            time.sleep(random.uniform(0, self.delay))
        with self.lock:
            self.received.append((event.aggregate_id, event.sequence))


@pytest.fixture
def destinations() -> Iterator[Callable[[str], Recorder]]:
    names: list[str] = []

    def make(name: str) -> Recorder:
        recorder = Recorder(name)
        subscribe(TOPIC, name, recorder)
        names.append(name)
        return recorder

    yield make
    for name in names:
        unsubscribe(TOPIC, name)


def record(aggregate_id: int, sequence: int) -> OutboxEvent:
    with transaction.atomic():
        return record_event(
            topic=f"{TOPIC}changed",
            aggregate_type="relaytest",
            aggregate_id=aggregate_id,
            sequence=sequence,
            payload={"n": sequence},
        )


@pytest.mark.django_db
def test_each_destination_gets_each_event_once_however_often_the_relay_runs(
    destinations: Callable[[str], Recorder],
) -> None:
    push, notify = destinations("push"), destinations("notify")
    for sequence in (1, 2, 3):
        record(7, sequence)

    assert publish_pending() == 3
    assert publish_pending() == 0

    assert push.received == [("7", 1), ("7", 2), ("7", 3)]
    assert notify.received == push.received
    assert list(OutboxEvent.objects.values_list("delivered_to", flat=True)) == [["push", "notify"]] * 3
    assert not OutboxEvent.objects.filter(published_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_failing_destination_is_retried_in_order_without_repeating_or_blocking_the_others(
    destinations: Callable[[str], Recorder], settings: Any
) -> None:
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    healthy, flaky = destinations("healthy"), destinations("flaky")
    flaky.failures_left = 1
    first, second = record(9, 1), record(9, 2)

    assert publish_pending() == 0
    assert healthy.received == [("9", 1), ("9", 2)]
    assert flaky.received == []  # #2 waits for #1 at this destination only
    first.refresh_from_db()
    assert first.attempts == 1 and first.delivered_to == ["healthy"] and "flaky is down" in first.last_error

    assert publish_pending() == 2
    assert flaky.received == [("9", 1), ("9", 2)]
    assert healthy.received == [("9", 1), ("9", 2)]
    second.refresh_from_db()
    assert second.published_at is not None and second.attempts == 0


@pytest.mark.django_db
def test_a_destination_in_backoff_is_not_called_before_its_time(
    destinations: Callable[[str], Recorder], settings: Any
) -> None:
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    flaky = destinations("flaky")
    flaky.failures_left = 1
    event = record(3, 1)
    publish_pending()
    publish_pending()
    event.refresh_from_db()
    assert event.attempts == 1 and event.published_at is None and event.next_attempt_at is not None
    assert flaky.received == []


@pytest.mark.django_db
def test_a_destination_that_keeps_failing_is_given_up_and_the_rest_flows(
    destinations: Callable[[str], Recorder], settings: Any
) -> None:
    settings.OUTBOX_RETRY_BASE_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 3
    broken, fine = destinations("broken"), destinations("fine")
    broken.fail_always = True
    first, second = record(4, 1), record(4, 2)
    for _ in range(3):
        publish_pending()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.failed_to == ["broken"] and first.published_at is not None and first.attempts == 3
    assert fine.received == [("4", 1), ("4", 2)]
    # #2 is now tried at the broken destination on its own account.
    assert second.attempts >= 1


@pytest.mark.django_db
def test_orders_waiting_out_a_backoff_do_not_crowd_out_new_events(
    destinations: Callable[[str], Recorder], settings: Any
) -> None:
    settings.OUTBOX_RETRY_BASE_SECONDS = 60
    flaky = destinations("flaky")
    flaky.failures_left = 2
    record(1, 1)
    record(2, 1)
    publish_pending(limit=2)  # both fail and back off
    fresh = record(3, 1)
    assert publish_pending(limit=1) == 1
    fresh.refresh_from_db()
    assert fresh.published_at is not None and flaky.received == [("3", 1)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_relays_keep_each_orders_events_in_order_and_deliver_each_once(
    destinations: Callable[[str], Recorder],
) -> None:
    slow = destinations("slow")
    slow.delay = 0.004
    aggregates, per_aggregate = 6, 12
    stop = threading.Event()
    errors: list[BaseException] = []

    def relay_loop() -> None:
        try:
            while not stop.is_set():
                publish_pending(limit=3)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    relays = [threading.Thread(target=relay_loop) for _ in range(3)]
    for thread in relays:
        thread.start()
    try:
        for sequence in range(1, per_aggregate + 1):
            for aggregate in range(aggregates):
                record(aggregate, sequence)
        deadline = time.monotonic() + 60
        while OutboxEvent.objects.filter(published_at__isnull=True).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in relays:
            thread.join()
    assert not errors
    by_aggregate: dict[str, list[int]] = defaultdict(list)
    for aggregate_id, sequence in slow.received:
        by_aggregate[aggregate_id].append(sequence)
    assert len(slow.received) == aggregates * per_aggregate
    for sequences in by_aggregate.values():
        assert sequences == list(range(1, per_aggregate + 1))


@pytest.mark.django_db(transaction=True)
def test_an_outbox_write_wakes_the_relay_once_at_commit_and_a_rollback_wakes_nobody() -> None:
    listener = connections.create_connection("default")
    listener.ensure_connection()
    with listener.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    raw = listener.connection

    def notifications(wait: float = 0.3) -> int:
        select.select([raw], [], [], wait)
        raw.poll()
        count = len(raw.notifies)
        raw.notifies.clear()
        return count

    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            record(1, 1)
            raise RuntimeError("changed my mind")
        assert notifications() == 0
        assert not OutboxEvent.objects.exists()

        with transaction.atomic():
            for sequence in (1, 2, 3):
                record(2, sequence)
            assert notifications(wait=0.1) == 0  # nothing before the commit
        assert notifications() == 1  # three events, one wake-up
    finally:
        listener.close()


@pytest.mark.django_db
def test_the_relay_process_publishes_until_a_pass_publishes_nothing(
    destinations: Callable[[str], Recorder],
) -> None:
    seen = destinations("seen")
    for aggregate in range(5):
        record(aggregate, 1)

    assert publish_all() == 5 and len(seen.received) == 5
    assert publish_all() == 0
