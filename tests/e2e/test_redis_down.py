"""Redis is a cache and a broker here, PostgreSQL holds the truth: while Redis is down, every state
change PostgreSQL can carry succeeds over HTTP, and what it sets off (notifications and their pushes,
dispatch rounds) catches up once Redis is back, even though it comes back empty.

Real processes on a private redis-server the test stops and starts: uvicorn, the outbox relay, a
Celery worker and beat; pushes go to the local FCM-protocol server.
"""

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from drivers.models import Job, JobState, Offer, OfferStatus
from drivers.services import ensure_profile
from notifications.models import Notification
from orders.models import Order, OrderStatus
from tests.drivers.conftest import fix, now_ms, offset
from tests.e2e.streams import api
from tests.factories import DeviceFactory, UserFactory
from tests.notifications.conftest import fake_fcm  # noqa: F401  (the local FCM-protocol server)
from tests.notifications.servers import FakeFcm
from tests.orders.factories import MERCHANT_LNG, cart_body, make_menu, make_staff
from tests.processes import CeleryWorker, LiveServer, RedisServer, RelayProcess, wait_until
from users.models import Role

pytestmark = [pytest.mark.e2e]

FAST = {"OUTBOX_SWEEP_SECONDS": "1", "OUTBOX_RETRY_MAX_SECONDS": "2", "DISPATCH_ROUND_SECONDS": "2"}
JOB_STEPS = [
    JobState.ARRIVED_AT_PICKUP,
    JobState.PICKED_UP,
    JobState.EN_ROUTE_TO_DROPOFF,
    JobState.ARRIVED_AT_DROPOFF,
    JobState.DELIVERED,
]


class App:
    """One user's app against the server: every answer's status is kept, with what was asked."""

    def __init__(self, base_url: str, user: Any) -> None:
        self.base_url = base_url
        self.user = user
        self.answers: list[tuple[str, int]] = []

    def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> httpx.Response:
        with api(self.base_url, self.user) as client:
            response = client.post(path, json=body or {}, headers=headers)
        self.answers.append((path, response.status_code))
        return response


def _send_fix(driver: App) -> bool:
    body = {"fixes": [fix(offset(400), MERCHANT_LNG, at_ms=now_ms())]}
    return driver.post("/driver/locations", body).status_code == 200


def _open_offer(driver_id: int, order_id: int) -> Offer | None:
    return Offer.objects.filter(
        driver_id=driver_id, order_ids__contains=[order_id], status=OfferStatus.OFFERED
    ).first()


def test_a_driver_works_through_a_redis_outage_and_the_side_effects_catch_up(
    redis_server_factory: Callable[[], RedisServer],
    asgi_server_factory: Callable[..., LiveServer],
    relay_process_factory: Callable[..., RelayProcess],
    celery_worker_factory: Callable[..., CeleryWorker],
    celery_beat_factory: Callable[..., Any],
    fake_fcm: FakeFcm,  # noqa: F811
) -> None:
    redis_server = redis_server_factory()
    redis_url = redis_server.url(0)
    env = {**FAST, **fake_fcm.process_env}
    server = asgi_server_factory(redis_url=redis_url, env=env)
    relay_process_factory(redis_url=redis_url, env=env)
    celery_worker_factory(redis_url=redis_url, env=env)
    celery_beat_factory(redis_url=redis_url, env=env)

    menu = make_menu()
    merchant = App(server.url, make_staff(menu.merchant))
    customer_user = UserFactory()
    DeviceFactory(user=customer_user, token="customer-phone")
    customer = App(server.url, customer_user)
    driver_user = UserFactory(roles=[Role.DRIVER])
    ensure_profile(user=driver_user)
    driver = App(server.url, driver_user)
    assert driver.post("/driver/online").status_code == 200
    assert _send_fix(driver)

    def place(key: str) -> int:
        response = customer.post("/orders", cart_body(menu), **{"Idempotency-Key": key})
        return int(response.json()["id"])

    first = place("outage-1")
    merchant.post(f"/merchant/orders/{first}/accept", {"prep_minutes": 5})
    merchant.post(f"/merchant/orders/{first}/ready")
    offer = wait_until(lambda: _open_offer(driver_user.pk, first), timeout=60)
    assert all(status in (200, 201) for app in (customer, merchant, driver) for _, status in app.answers)
    for app in (customer, merchant, driver):
        app.answers.clear()

    redis_server.stop()
    # The driver takes the offer and walks the job to the door.
    driver.post(f"/driver/offers/{offer.pk}/accept")
    job = Job.objects.get(offer=offer)
    order = Order.objects.get(pk=first)
    for step in JOB_STEPS:
        body: dict[str, Any] = {"to": step}
        if step == JobState.DELIVERED:
            body |= {"delivery_code": order.delivery_code, "cash_collected_vnd": order.total_vnd}
        driver.post(f"/driver/jobs/{job.pk}/steps", body)
    # Customers place and cancel, merchants accept and ready, drivers go off and on shift.
    second = place("outage-2")
    merchant.post(f"/merchant/orders/{second}/accept", {"prep_minutes": 5})
    merchant.post(f"/merchant/orders/{second}/ready")
    third = place("outage-3")
    customer.post(f"/orders/{third}/cancel", {"reason": "changed my mind"})
    driver.post("/driver/offline")
    driver.post("/driver/online")

    answers = [answer for app in (driver, customer, merchant) for answer in app.answers]
    assert [(path, status) for path, status in answers if status not in (200, 201)] == []
    assert Job.objects.get(pk=job.pk).state == JobState.DELIVERED
    statuses = dict(Order.objects.filter(pk__in=[first, second, third]).values_list("pk", "status"))
    assert statuses == {
        first: OrderStatus.DELIVERED,
        second: OrderStatus.READY_FOR_PICKUP,
        third: OrderStatus.CANCELLED,
    }

    redis_server.start()  # empty: every queued message and live position is gone
    # The app keeps streaming fixes; the order readied during the outage is offered to the driver.
    wait_until(lambda: _send_fix(driver) and _open_offer(driver_user.pk, second), timeout=60, interval=1)

    # Every notification the outage's events called for is in the inbox, and pushed once.
    expected = {
        (first, "order.picked_up"),
        (first, "order.delivered"),
        (second, "order.accepted"),
        (third, "order.cancelled"),
    }

    def inbox() -> set[tuple[int, str]]:
        rows = Notification.objects.filter(user=customer_user).values_list("data__order_id", "kind")
        return {(int(order_id), kind) for order_id, kind in rows}

    wait_until(lambda: expected <= inbox(), timeout=30)
    notification_ids = set(Notification.objects.filter(user=customer_user).values_list("pk", flat=True))

    def pushed() -> list[int]:
        phone = [m for m in fake_fcm.messages if m["token"] == "customer-phone"]
        return [int(m["data"]["notification_id"]) for m in phone]

    wait_until(lambda: set(pushed()) == notification_ids, timeout=30)
    assert sorted(pushed()) == sorted(notification_ids)  # each once
