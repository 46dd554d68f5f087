"""The shared process fixtures themselves: they start, answer, do work, and die on request."""

from collections.abc import Callable

import httpx
import pytest
from django.db import transaction

from loship.events.models import OutboxEvent
from loship.events.services import record_event
from loship.events.tasks import relay_outbox
from tests.processes import CeleryWorker, LiveServer, RedisServer, RelayProcess, wait_until

pytestmark = [pytest.mark.e2e]


def test_live_server_answers_http_against_the_test_database(asgi_server: LiveServer) -> None:
    response = httpx.get(asgi_server.url + "/readyz", timeout=5)
    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


def test_relay_process_publishes_a_committed_event_and_comes_back_after_kill_9(
    relay_process: RelayProcess,
) -> None:
    with transaction.atomic():
        event = record_event(topic="test.ping", aggregate_type="test", aggregate_id=1, payload={})
    wait_until(lambda: OutboxEvent.objects.filter(pk=event.pk, published_at__isnull=False).exists())

    relay_process.kill()
    assert not relay_process.alive
    with transaction.atomic():
        second = record_event(topic="test.ping", aggregate_type="test", aggregate_id=2, payload={})
    relay_process.start()
    # Nobody listened when it committed: the new relay publishes what is pending as it starts.
    wait_until(lambda: OutboxEvent.objects.filter(pk=second.pk, published_at__isnull=False).exists())


def test_worker_runs_a_task_and_comes_back_after_kill_9(celery_worker: CeleryWorker) -> None:
    def ran() -> bool:
        lines = celery_worker.log_since_start().splitlines()
        return any("relay_outbox" in line and "succeeded" in line for line in lines)

    relay_outbox.delay()  # the beat sweep's task, sent by hand
    wait_until(ran)

    celery_worker.kill()
    assert not celery_worker.alive
    relay_outbox.delay()
    celery_worker.start()
    # The message waited in the broker for the new worker.
    wait_until(ran)


def test_private_redis_server_restarts_on_the_same_port(
    redis_server_factory: Callable[[], RedisServer],
) -> None:
    import redis

    server = redis_server_factory()
    client = redis.Redis.from_url(server.url(3))
    client.set("k", "v")
    server.stop()
    server.start()
    assert client.get("k") is None
