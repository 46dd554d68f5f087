"""What a real server writes: every line JSON, times in UTC with their offset, the request id on the
lines of a request (django.request's 4xx lines too) and of the Celery task it caused, and no token."""

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone
from gunicorn.glogging import SafeAtoms
from websockets.sync.client import connect

from drivers import services as driver_services
from loship.logformat import NoWebSocketAccessFilter, RedactSecretsFilter
from loship.observability import REQUEST_ID_META, RequestIdFilter, request_id_var
from orders import services as order_services
from tests.drivers.conftest import make_driver
from tests.factories import UserFactory
from tests.orders.factories import cart_body, make_menu
from tests.processes import CeleryWorker, LiveProcess, LiveServer, process_env, wait_until
from tests.realtime.conftest import token_for

UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(\+00:00|Z)$")
JSON_LOGS = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of `text` as JSON (fails on the first line that is not)."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("--- start "):  # the fixture's own marker
            continue
        try:
            lines.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}")
    return lines


def assert_clean(lines: list[dict[str, Any]], *, secrets: list[str]) -> None:
    for line in lines:
        assert UTC_TIME.match(line["time"]), line
        assert "request_id" in line, line
    text = json.dumps(lines)
    for secret in secrets:
        assert secret not in text


def start(process: LiveProcess, registry: list[LiveProcess]) -> None:
    registry.append(process)
    process.start()


@pytest.mark.e2e
def test_server_and_worker_lines_are_json_utc_carry_the_request_id_and_no_token(
    _process_registry: list[LiveProcess], tmp_path: Path
) -> None:
    # The production command lines: uvicorn with the project's log config at INFO (uvicorn would write
    # a WebSocket handshake line naming the URL, token and all: the config drops it), a quiet worker
    # (no banner).
    server = LiveServer(env=process_env(env=JSON_LOGS), log_path=tmp_path / "uvicorn.log")
    server.args[server.args.index("warning")] = "info"
    server.args += ["--log-config", "loship/server_logging.json"]
    start(server, _process_registry)
    worker = CeleryWorker(env=process_env(env=JSON_LOGS), log_path=tmp_path / "worker.log", concurrency=1)
    worker.args.insert(worker.args.index("worker"), "--quiet")
    start(worker, _process_registry)

    customer = UserFactory()
    access = token_for(customer)
    bearer = {"Authorization": f"Bearer {access}"}
    placed = httpx.post(
        f"{server.url}/api/v1/orders",
        json=cart_body(make_menu()),
        headers={**bearer, "Idempotency-Key": "logs-1", "X-Request-ID": "req-place-1"},
        timeout=20,
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]

    # A view that answers 404 itself (DRF), and one Django answers (no route), with a token in the URL.
    missing = httpx.get(
        f"{server.url}/api/v1/orders/999999999", headers={**bearer, "X-Request-ID": "req-404-api"}
    )
    assert missing.status_code == 404
    nowhere = httpx.get(f"{server.url}/nowhere?token={access}", headers={"X-Request-ID": "req-404-url"})
    assert nowhere.status_code == 404

    # The old apps' `?token=` and the subprotocol both open the stream.
    for url, subprotocols in [
        (f"{server.ws_url}/ws/orders/{order_id}/?token={access}", None),
        (f"{server.ws_url}/ws/orders/{order_id}/", [f"bearer.{access}"]),
    ]:
        with connect(url, subprotocols=subprotocols, open_timeout=10) as socket:
            assert json.loads(socket.recv(timeout=10))["type"] == "order.snapshot"

    # A driver declines the order's offer over HTTP: the decline asks for a dispatch round (a task;
    # placing an order causes none, its event goes through the relay process).
    order_services.accept_order(order_id=order_id, actor=None, prep_minutes=10)
    driver_services.enter_pool(order_id=order_id)
    driver = make_driver()
    with transaction.atomic():
        offer = driver_services.create_offer(
            driver_id=driver.pk, order_ids=[order_id], pickup_at=None, now=timezone.now()
        )
    declined = httpx.post(
        f"{server.url}/api/v1/driver/offers/{offer.pk}/decline",
        headers={"Authorization": f"Bearer {token_for(driver)}", "X-Request-ID": "req-decline-1"},
        timeout=20,
    )
    assert declined.status_code == 200, declined.text

    # The round ran in the worker, under the id of the request that declined.
    def task_lines() -> list[dict[str, Any]]:
        return [
            line
            for line in json_lines(worker.log_since_start())
            if line.get("logger") == "celery.app.trace" and "succeeded" in line["message"]
        ]

    wait_until(lambda: any(line["request_id"] == "req-decline-1" for line in task_lines()), timeout=30)
    worker_lines = json_lines(worker.log_since_start())
    assert_clean(worker_lines, secrets=[access])

    server.stop()
    lines = json_lines(server.log_since_start())
    assert_clean(lines, secrets=[access, access.rsplit(".", 1)[-1]])
    refusals = {line["request_id"]: line for line in lines if line["logger"] == "django.request"}
    assert refusals["req-404-api"]["message"].startswith("Not Found: /api/v1/orders/999999999")
    assert refusals["req-404-url"]["message"].startswith("Not Found: /nowhere")
    handshakes = [line["message"] for line in lines if "WebSocket /ws/orders/" in line["message"]]
    assert handshakes == []


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ('%s - "WebSocket %s" [accepted]', False),
        ('%s - "WebSocket %s" 403', False),
        ('%s - "WebSocket %s" %d', False),
        ("connection open", False),
        ("connection closed", False),
        ("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", True),
        ("Exception in ASGI application\n", True),
    ],
)
def test_uvicorn_s_per_socket_access_lines_are_dropped_and_nothing_else(message: str, kept: bool) -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, message, (), None)
    assert NoWebSocketAccessFilter().filter(record) is kept


def test_a_refusal_logged_after_the_middleware_returned_carries_the_requests_id() -> None:
    """Django logs a 4xx answer after the middleware unbound the id: the filter reads the request."""
    request = RequestFactory().get("/api/v1/orders/1")
    request.META[REQUEST_ID_META] = "req-late-9"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s", ("/x",), None)
    record.request = request
    unbound = request_id_var.set("-")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(unbound)
    assert record.request_id == "req-late-9"


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ('%s - "WebSocket %s" [accepted]', ("127.0.0.1:5000", "/ws/orders/1/?token=SECRET&x=1")),
        ("headers: %(auth)s", ({"auth": "Authorization: Bearer SECRET"},)),
        ("offered %s", (["loship.v1", "bearer.SECRET"],)),
        ('login answered {"access": "SECRET", "refresh": "SECRET"}', ()),
        # Spellings that match the patterns only case-insensitively (long s, Kelvin sign).
        ("body: acce\u017fs_token=SECRET", ()),
        ("GET /ws/?to\u212aen=SECRET", ()),
    ],
)
def test_token_values_are_redacted_from_messages_and_arguments(message: str, args: Any) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, message, args, None)
    RedactSecretsFilter().filter(record)
    assert "SECRET" not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_an_access_line_is_rendered_once_then_cleaned() -> None:
    """gunicorn hands every header and WSGI variable to its access line; the line uses a few."""
    atoms = SafeAtoms(
        {
            "h": "10.0.0.1",
            "r": "GET /ws/orders/1/?token=SECRET HTTP/1.1",
            "s": "200",
            "{authorization}i": "Bearer SECRET",
            **{f"{{x-header-{n}}}i": "value" for n in range(60)},
        }
    )
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', (atoms,), None
    )

    RedactSecretsFilter().filter(record)

    assert record.getMessage() == '10.0.0.1 "GET /ws/orders/1/?token=[redacted] HTTP/1.1" 200'
    assert record.args is None
