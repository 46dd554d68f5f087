"""End to end with real processes (uvicorn, a Celery worker, the Redis channel layer, a real WebSocket):
the merchant accepts and readies an order over HTTP; the outbox relay puts it in the pool, a dispatch
round offers it, and the offer reaches the driver's socket; the driver accepts over HTTP, sends fixes
over the socket, picks up and delivers, and the customer's order stream sees the driver move."""

import json
from typing import Any

import pytest

from orders.models import Order
from tests.conftest import authenticated_client
from tests.drivers.conftest import fix, make_driver, now_ms, offset
from tests.e2e.streams import StreamClient, api, order_stream_url
from tests.factories import UserFactory
from tests.orders.factories import MERCHANT_LNG, cart_body, make_menu, make_staff
from tests.processes import CeleryWorker, LiveServer
from tests.realtime.conftest import token_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _post(base_url: str, user: Any, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    with api(base_url, user) as client:
        response = client.post(path, json=body or {})
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def _is(kind: str) -> Any:
    return lambda message: message.get("type") == kind


def test_an_order_readied_by_its_merchant_is_offered_on_the_driver_socket_and_delivered(
    asgi_server: LiveServer, celery_worker: CeleryWorker
) -> None:
    menu = make_menu()
    staff = make_staff(menu.merchant)
    customer = UserFactory()
    driver = make_driver(lat=offset(400))
    socket = StreamClient(f"{asgi_server.ws_url}/ws/driver/?token={token_for(driver)}")
    _, snapshot = socket.next()
    assert snapshot["type"] == "snapshot"

    with api(asgi_server.url, customer) as client:
        placed = client.post("/orders", json=cart_body(menu), headers={"Idempotency-Key": "e2e-dispatch-1"})
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    customer_stream = StreamClient(order_stream_url(asgi_server.ws_url, order_id, customer))
    _post(asgi_server.url, staff, f"/merchant/orders/{order_id}/accept", {"prep_minutes": 5})
    _post(asgi_server.url, staff, f"/merchant/orders/{order_id}/ready")

    _, offer = socket.next(_is("offer.created"), timeout=60)
    assert offer["order_ids"] == [order_id]
    accepted = _post(asgi_server.url, driver, f"/driver/offers/{offer['offer_id']}/accept")
    job_id = accepted["jobs"][0]["job_id"]
    _, job_event = socket.next(_is("job.en_route_to_pickup"), timeout=30)
    assert job_event["order_id"] == order_id

    _post(asgi_server.url, driver, f"/driver/jobs/{job_id}/steps", {"to": "picked_up"})
    socket.ws.send(
        json.dumps({"type": "location", "fixes": [fix(offset(600), MERCHANT_LNG, at_ms=now_ms() + 100)]})
    )
    _, ack = socket.next(_is("location.ack"))
    assert ack["accepted"] == 1
    _, position = customer_stream.next(_is("driver.position"), timeout=30)
    assert position["order_id"] == order_id
    order = Order.objects.get(pk=order_id)
    _post(
        asgi_server.url,
        driver,
        f"/driver/jobs/{job_id}/steps",
        {"to": "delivered", "delivery_code": order.delivery_code, "cash_collected_vnd": order.total_vnd},
    )

    _, delivered = socket.next(_is("job.delivered"), timeout=30)
    assert delivered["order_id"] == order_id
    assert Order.objects.get(pk=order_id).status == "delivered"
    cash = authenticated_client(driver).get("/api/v1/driver/cash").json()
    assert cash["cash_balance_vnd"] == order.total_vnd
    socket.close()
    customer_stream.close()
