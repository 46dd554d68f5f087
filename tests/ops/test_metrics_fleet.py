"""The fleet's metrics in Redis: a process that goes silent or exits keeps its counters in the retired
totals (folded once, however many scrapers race) and loses its gauges; a process taken for dead while
alive counts on without counting anything twice."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import Metric

from loship import metrics_fleet
from loship.metrics import LOCATION_FIXES, WEBSOCKET_CONNECTIONS
from loship.metrics_fleet import (
    PROCESSES_KEY,
    RETIRED_KEY,
    fleet_families,
    fleet_value,
    publish_snapshot,
    redis_client,
    retire_this_process,
    snapshot_field,
    store_snapshot,
)
from tests.ops.conftest import scrape

pytestmark = pytest.mark.django_db

FIXES = "loship_location_fixes_total"
SOCKETS = "loship_websocket_connections"
DEAD = "dead-host:4242:a1b2"


@pytest.fixture(autouse=True)
def _fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This test process starts with no id and no baseline, and gets its own back afterwards."""
    monkeypatch.setattr(metrics_fleet, "_process", None)
    yield


def field(family: str, kind: str, sample: str, **labels: str) -> str:
    return snapshot_field(Metric(family, "", kind), sample, labels)


def another_process(*, fixes: float, sockets: float, runs: float = 0) -> dict[str, float]:
    return {
        field("loship_location_fixes", "counter", FIXES, outcome="accepted"): fixes,
        field("loship_websocket_connections", "gauge", SOCKETS, stream="ops"): sockets,
        field(
            "loship_dispatch_round_seconds", "histogram", "loship_dispatch_round_seconds_bucket", le="+Inf"
        ): runs,
        field("loship_dispatch_round_seconds", "histogram", "loship_dispatch_round_seconds_count"): runs,
    }


def silence(process_id: str) -> None:
    """Pretend the process last published long ago (its snapshot is older than the stale time)."""
    redis_client().zadd(PROCESSES_KEY, {process_id: time.time() - 3600})


def test_a_silent_process_keeps_its_counters_and_loses_its_gauges(settings: Any) -> None:
    settings.METRICS_STALE_SECONDS = 60
    LOCATION_FIXES.labels(outcome="accepted").inc()
    local = scrape()
    store_snapshot(DEAD, another_process(fixes=7, sockets=4, runs=3))
    live = scrape()
    assert live.value(FIXES, outcome="accepted") == local.value(FIXES, outcome="accepted") + 7
    assert live.value_or_zero(SOCKETS, stream="ops") == local.value_or_zero(SOCKETS, stream="ops") + 4

    silence(DEAD)
    for _ in range(2):
        after = scrape()
        assert after.value(FIXES, outcome="accepted") == live.value(FIXES, outcome="accepted")
        assert after.value("loship_dispatch_round_seconds_count") == live.value(
            "loship_dispatch_round_seconds_count"
        )
        assert after.value("loship_dispatch_round_seconds_bucket", le="+Inf") >= 3
        assert after.value_or_zero(SOCKETS, stream="ops") == local.value_or_zero(SOCKETS, stream="ops")
    assert DEAD.encode() not in redis_client().zrange(PROCESSES_KEY, 0, -1)


def test_scrapers_racing_fold_a_dead_process_once() -> None:
    store_snapshot(DEAD, another_process(fixes=7, sockets=4))
    silence(DEAD)
    readings: list[float] = []

    def read() -> None:
        readings.append(fleet_value(FIXES, outcome="accepted", families=fleet_families()))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    retired = redis_client().hget(
        RETIRED_KEY, field("loship_location_fixes", "counter", FIXES, outcome="accepted")
    )
    assert retired is not None and float(retired) == 7
    assert len(set(readings)) == 1


def test_a_dead_process_that_comes_back_is_not_counted_twice() -> None:
    store_snapshot(DEAD, another_process(fixes=7, sockets=4))
    silence(DEAD)
    before = fleet_value(FIXES, outcome="accepted")
    # It was only cut off from Redis: its next publish under the same id is refused with what was folded.
    folded = store_snapshot(DEAD, another_process(fixes=9, sockets=4))
    assert folded is not None
    assert folded[field("loship_location_fixes", "counter", FIXES, outcome="accepted")] == 7
    assert fleet_value(FIXES, outcome="accepted") == before


def test_this_process_taken_for_dead_counts_on_from_its_folded_values(settings: Any) -> None:
    settings.METRICS_STALE_SECONDS = 0  # every read folds every process, this one included
    counter = LOCATION_FIXES.labels(outcome="accepted")
    counter.inc(3)
    first = fleet_value(FIXES, outcome="accepted")
    assert fleet_value(FIXES, outcome="accepted") == first
    counter.inc(2)
    assert fleet_value(FIXES, outcome="accepted") == first + 2
    assert fleet_value(FIXES, outcome="accepted") == first + 2


def test_a_clean_exit_retires_the_process_at_once() -> None:
    gauge = WEBSOCKET_CONNECTIONS.labels(stream="merchant")
    gauge.inc(3)
    try:
        LOCATION_FIXES.labels(outcome="accepted").inc(4)
        publish_snapshot()
        live = scrape()
        assert live.value(SOCKETS, stream="merchant") >= 3
        retire_this_process()
        assert redis_client().zcard(PROCESSES_KEY) == 0
        after = scrape()
        assert after.value(FIXES, outcome="accepted") == live.value(FIXES, outcome="accepted")
        assert after.value_or_zero(SOCKETS, stream="merchant") == 0
    finally:
        gauge.dec(3)
