"""Across real processes: a uvicorn server and a Celery worker publish their metrics to Redis, the
scrape adds them up, a request's id reaches the log lines of the task it caused (a driver's decline
asks for a dispatch round; placing an order causes no task, its event goes through the relay process),
and the counters of a process killed with SIGKILL stay on the scrape while its gauges leave it."""

import json
from itertools import pairwise
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from drivers import services as driver_services
from loship.events.tasks import relay_outbox
from orders import services as order_services
from tests.drivers.conftest import make_driver
from tests.e2e.streams import StreamClient
from tests.factories import UserFactory
from tests.ops.conftest import METRICS_TOKEN, Scrape, scrape
from tests.orders.factories import cart_body, make_menu
from tests.processes import wait_until
from tests.realtime.conftest import token_for

pytestmark = pytest.mark.e2e

FAST_PUBLISH = {"METRICS_PUBLISH_SECONDS": "0.2", "METRICS_TOKEN": METRICS_TOKEN, "LOG_FORMAT": "json"}


def test_worker_task_timings_and_the_request_id_travel_across_processes(
    asgi_server_factory: Any, celery_worker_factory: Any
) -> None:
    server = asgi_server_factory(env=FAST_PUBLISH)
    worker = celery_worker_factory(env=FAST_PUBLISH, concurrency=1)
    menu = make_menu()
    token = RefreshToken.for_user(UserFactory()).access_token
    runs_before = scrape().value_or_zero("loship_celery_task_run_seconds_count", queue="dispatch")

    response = httpx.post(
        f"{server.url}/api/v1/orders",
        json=cart_body(menu),
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": "e2e-1",
            "X-Request-ID": "req-e2e-7730",
        },
        timeout=20,
    )
    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "req-e2e-7730"
    # The order waits for a driver, who is offered it and declines over HTTP: the decline asks for a
    # dispatch round (a task) after its commit.
    order_id = response.json()["id"]
    order_services.accept_order(order_id=order_id, actor=None, prep_minutes=10)
    driver_services.enter_pool(order_id=order_id)
    driver = make_driver()
    with transaction.atomic():
        offer = driver_services.create_offer(
            driver_id=driver.pk, order_ids=[order_id], pickup_at=None, now=timezone.now()
        )
    driver_token = RefreshToken.for_user(driver).access_token
    response = httpx.post(
        f"{server.url}/api/v1/driver/offers/{offer.pk}/decline",
        headers={"Authorization": f"Bearer {driver_token}", "X-Request-ID": "req-e2e-7731"},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-ID"] == "req-e2e-7731"

    # The decline's dispatch round ran in the worker, whose snapshot reaches this scrape.
    wait_until(
        lambda: scrape().value_or_zero("loship_celery_task_run_seconds_count", queue="dispatch")
        > runs_before,
        timeout=30,
    )
    # The server's own scrape adds up the worker's snapshot too (this test process publishes none).
    served = httpx.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert served.status_code == 200
    fleet = Scrape(served.text)
    assert fleet.value("loship_celery_task_run_seconds_count", queue="dispatch") >= 1
    assert fleet.value("loship_celery_task_queue_wait_seconds_count", queue="dispatch") >= 1
    assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 403

    # The worker logs JSON lines, and the lines of the task carry the id of the request that caused it.
    def task_lines() -> list[dict[str, Any]]:
        lines = [
            json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")
        ]
        return [
            line
            for line in lines
            if line.get("logger") == "celery.app.trace" and "succeeded" in line["message"]
        ]

    wait_until(lambda: any(line["request_id"] == "req-e2e-7731" for line in task_lines()), timeout=20)
    round_line = next(line for line in task_lines() if "dispatch_round" in line["message"])
    assert round_line["request_id"] == "req-e2e-7731"


def test_counters_of_a_killed_process_never_go_down_and_its_gauges_go(
    asgi_server_factory: Any, celery_worker_factory: Any, settings: Any
) -> None:
    settings.METRICS_STALE_SECONDS = 2
    env = {**FAST_PUBLISH, "METRICS_STALE_SECONDS": "2"}
    server = asgi_server_factory(env=env)
    worker = celery_worker_factory(env=env, concurrency=1)
    tasks, runs = "loship_celery_tasks_total", "loship_celery_task_run_seconds_count"
    for _ in range(5):
        relay_outbox.apply_async(queue="default")
    socket = StreamClient(f"{server.ws_url}/ws/driver/?token={token_for(make_driver())}")

    def counted(result: Scrape) -> bool:
        return (
            result.value_or_zero(tasks, queue="default", state="SUCCESS") >= 5
            and result.value_or_zero("loship_websocket_connections", stream="driver") == 1
        )

    wait_until(lambda: counted(scrape()), timeout=30)
    worker.kill()
    server.kill()
    socket.close()

    # Until the dead processes go stale their last snapshots count; after, the retired totals do.
    readings = [scrape()]

    def without_the_socket() -> Scrape | None:
        result = scrape()
        return result if result.value_or_zero("loship_websocket_connections", stream="driver") == 0 else None

    gone = wait_until(without_the_socket, timeout=20)
    readings += [gone, scrape()]
    for before, after in pairwise(readings):
        assert after.value(tasks, queue="default", state="SUCCESS") >= before.value(
            tasks, queue="default", state="SUCCESS"
        )
        assert after.value(runs, queue="default") >= before.value(runs, queue="default")
    assert readings[-1].value(tasks, queue="default", state="SUCCESS") >= 5
    assert readings[-1].value(runs, queue="default") >= 5
    assert readings[-1].value("loship_celery_task_run_seconds_bucket", queue="default", le="+Inf") >= 5
