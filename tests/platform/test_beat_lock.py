"""Two beats never both send: the beat lease in Redis (loship/beat.py), against the real Redis."""

import time

import pytest
from django_celery_beat.models import PeriodicTask

from loship.beat import STANDBY_TICK_SECONDS, BeatLease, LockedDatabaseScheduler
from loship.celery import app
from loship.redis_client import broker_client
from tests.concurrency import run_at_once


def test_only_one_of_many_beats_starting_together_holds_the_lease() -> None:
    leases = [BeatLease(key="loship:test:beat-lease") for _ in range(8)]

    held = run_at_once(len(leases), lambda index: leases[index].hold())

    assert held.count(True) == 1
    holder = leases[held.index(True)]
    assert broker_client().get("loship:test:beat-lease") == holder.token.encode()
    # The holder renews; the others still wait.
    assert holder.hold()
    assert not any(lease.hold() for lease in leases if lease is not holder)


def test_a_standby_takes_over_when_the_holder_stops_or_dies() -> None:
    first = BeatLease(key="loship:test:beat-lease", lease_seconds=0.3)
    second = BeatLease(key="loship:test:beat-lease", lease_seconds=0.3)
    assert first.hold() and not second.hold()

    first.release()  # a clean stop
    assert second.hold() and not first.hold()

    time.sleep(0.5)  # the holder died: its lease runs out
    assert first.hold()
    second.release()  # not its lease any more: releasing leaves the holder's alone
    assert broker_client().get("loship:test:beat-lease") == first.token.encode()


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_scheduler_sends_nothing_while_the_first_holds_the_lease() -> None:
    first = LockedDatabaseScheduler(app=app)
    second = LockedDatabaseScheduler(app=app)
    try:
        assert first.lease.hold()
        runs_before = sorted(PeriodicTask.objects.values_list("name", "total_run_count"))

        assert second.tick() == STANDBY_TICK_SECONDS
        assert sorted(PeriodicTask.objects.values_list("name", "total_run_count")) == runs_before

        first.close()  # the holder stops: the second sends from its next tick
        assert second.lease.hold()
    finally:
        second.close()
