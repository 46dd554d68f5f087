"""Across real processes: a uvicorn server and a Celery worker publish their metrics to Redis, the
scrape adds them up, and a request's id reaches the log lines of the task it caused (a driver's decline
asks for a dispatch round; placing an order causes no task, its event goes through the relay process)."""

import json
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from drivers import services as driver_services
from orders import services as order_services
from tests.drivers.conftest import make_driver
from tests.factories import UserFactory
from tests.ops.conftest import METRICS_TOKEN, Scrape, scrape
from tests.orders.factories import cart_body, make_menu
from tests.processes import wait_until

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
