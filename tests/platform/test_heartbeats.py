"""A dead Celery beat or worker is seen from outside it: both leave the time they were last seen in
Redis, and the reader (ops dashboard at render time, /metrics at scrape time) judges the age."""

import re
import time
from types import SimpleNamespace
from typing import Any

import pytest
from celery.signals import after_task_publish, beat_init, worker_ready
from django.test import Client

from ops import heartbeat
from ops.heartbeat import STALE_AFTER_SECONDS, heartbeats, last_seen, mark_seen
from tests.factories import UserFactory
from tests.ops.conftest import METRICS_TOKEN, scrape
from tests.processes import wait_until
from users.models import Role


@pytest.fixture
def metrics_settings(settings: Any) -> None:
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    settings.METRICS_PUBLISH_SECONDS = 0


@pytest.fixture
def in_beat(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test process plays beat (put back afterwards, or every later publish would count)."""
    monkeypatch.setattr(heartbeat, "_in_beat", False)
    monkeypatch.setattr(heartbeat, "_last_beat_write", 0.0)


def ages(now: float) -> dict[str, float | None]:
    return {beat.process: beat.age for beat in heartbeats(now=now)}


def test_never_seen_and_long_unseen_processes_are_stale_recent_ones_are_not() -> None:
    now = time.time()
    assert all(beat.stale and beat.seen_at is None for beat in heartbeats(now=now))

    mark_seen("beat", now=now - 5)
    mark_seen("worker", now=now - STALE_AFTER_SECONDS - 1)

    stale = {beat.process: beat.stale for beat in heartbeats(now=now)}
    assert stale == {"beat": False, "worker": True}
    assert ages(now) == {"beat": pytest.approx(5), "worker": pytest.approx(STALE_AFTER_SECONDS + 1)}


def test_beat_is_seen_when_it_publishes_and_no_other_process_counts_as_beat(in_beat: None) -> None:
    after_task_publish.send(
        sender="orders.tasks.sweep_deadlines", headers={}, body=(), exchange="", routing_key=""
    )
    assert "beat" not in last_seen()  # a web process or worker sending a task is not beat

    beat_init.send(sender=None)
    first = last_seen()["beat"]
    time.sleep(1.1)
    after_task_publish.send(
        sender="orders.tasks.sweep_deadlines", headers={}, body=(), exchange="", routing_key=""
    )

    assert last_seen()["beat"] > first


def test_a_worker_is_seen_from_its_consumer_timer() -> None:
    calls: list[tuple[float, Any, tuple[str, ...]]] = []

    class Consumer:  # what the worker sends worker_ready with: its consumer, which has a timer
        timer = SimpleNamespace(call_repeatedly=lambda secs, fun, args: calls.append((secs, fun, args)))

    worker_ready.send(sender=Consumer())

    assert "worker" in last_seen()
    assert calls == [(heartbeat.WORKER_BEAT_SECONDS, mark_seen, ("worker",))]


def test_metrics_export_the_last_seen_times(db: None, metrics_settings: None) -> None:
    mark_seen("beat", now=1_700_000_000.0)

    result = scrape()

    assert result.value("loship_heartbeat_timestamp_seconds", process="beat") == 1_700_000_000.0
    assert not result.value_or_zero("loship_heartbeat_timestamp_seconds", process="worker")


def test_the_ops_dashboard_warns_of_a_dead_beat_at_render_time(db: None) -> None:
    client = Client()
    client.force_login(UserFactory(roles=[Role.OPS], is_staff=True))
    mark_seen("worker")
    mark_seen("beat", now=time.time() - 600)

    html = client.get("/admin/ops/dashboard/").content.decode()

    assert re.search(
        r'data-process="beat"><strong>Cảnh báo tiến trình:</strong> Không thấy Celery beat trong 60\d giây',
        html,
    )
    assert 'data-process="worker"' not in html

    mark_seen("beat")
    assert 'id="process-banner"' not in client.get("/admin/ops/dashboard/").content.decode()


@pytest.mark.e2e
def test_real_beat_and_worker_leave_heartbeats_and_a_killed_beat_goes_stale(
    celery_worker: Any, celery_beat: Any
) -> None:
    seen = wait_until(lambda: (s := last_seen()).keys() >= {"beat", "worker"} and s, timeout=30)
    # The worker is seen again from its consumer's timer, every WORKER_BEAT_SECONDS.
    wait_until(lambda: last_seen()["worker"] > seen["worker"], timeout=heartbeat.WORKER_BEAT_SECONDS + 10)

    celery_beat.kill()
    killed_at = last_seen()["beat"]
    time.sleep(2)

    assert last_seen()["beat"] == killed_at  # nobody speaks for a dead beat
    later = {beat.process: beat.stale for beat in heartbeats(now=killed_at + STALE_AFTER_SECONDS + 1)}
    assert later["beat"] is True
