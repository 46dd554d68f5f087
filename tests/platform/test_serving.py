"""The `web` process's WSGI application (loship/serving.py), called as gunicorn calls it: the API and
the probes through the short stack, everything else through the full one, the liveness probe replayed.

Each test builds the application after setting production's security settings, as the middleware
reads them when it is built."""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from prometheus_client import REGISTRY
from rest_framework_simplejwt.tokens import RefreshToken

from loship.serving import web_application
from orders.models import Order
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import cart_body, make_menu

HTTPS = {"X-Forwarded-Proto": "https"}
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.fixture
def web(settings: Any) -> Iterator[httpx.Client]:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True
    transport = httpx.WSGITransport(app=keeping_the_tests_transaction(web_application()))
    with httpx.Client(transport=transport, base_url="http://testserver", headers=HTTPS) as client:
        yield client


def keeping_the_tests_transaction(application: Any) -> Any:
    """The application run as Django's test client runs its handler: the connection is not closed at
    the start and end of each request, so the test's transaction outlives it."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = application(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                getattr(response, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_api_responses_carry_the_security_headers_and_the_request_id(web: httpx.Client) -> None:
    response = web.get("/api/v1/orders", headers={"X-Request-ID": "req-api-1"})

    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "req-api-1"
    assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.django_db
def test_api_errors_follow_accept_language(web: httpx.Client) -> None:
    vietnamese = web.get("/api/v1/orders")
    english = web.get("/api/v1/orders", headers={"Accept-Language": "en"})

    assert english.json()["error"]["message"] == "Authentication is required."
    assert vietnamese.json()["error"]["message"] != english.json()["error"]["message"]
    assert (vietnamese.headers["Content-Language"], english.headers["Content-Language"]) == ("vi", "en")


@pytest.mark.django_db
def test_an_api_response_never_touches_a_browsers_session_cookie(web: httpx.Client) -> None:
    """The full stack's session middleware deletes a session cookie it cannot read; the API has none."""
    web.cookies.set("sessionid", "stale")

    api = web.get("/api/v1/orders")
    admin = web.get("/admin/login/")

    assert "set-cookie" not in api.headers
    assert "sessionid=" in admin.headers["set-cookie"]


@pytest.mark.django_db
def test_the_admin_keeps_its_sessions_csrf_and_security_headers(web: httpx.Client) -> None:
    page = web.get("/admin/login/")

    assert page.status_code == 200
    assert "csrftoken=" in page.headers["set-cookie"]
    assert {name: page.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.django_db
def test_api_requests_are_counted_by_route_and_status(web: httpx.Client) -> None:
    order, bearer = placed_order()
    labels = {"status": "200", "view": "v1:order-detail", "method": "GET"}
    timing = {"view": "v1:order-detail", "method": "GET"}
    before = metric("django_http_responses_total_by_status_view_method_total", **labels)
    timed = metric("django_http_requests_latency_seconds_by_view_method_count", **timing)

    assert web.get(f"/api/v1/orders/{order.pk}", headers=bearer).status_code == 200

    assert metric("django_http_responses_total_by_status_view_method_total", **labels) == before + 1
    assert metric("django_http_requests_latency_seconds_by_view_method_count", **timing) == timed + 1


def placed_order() -> tuple[Order, dict[str, str]]:
    customer = UserFactory()
    response = authenticated_client(customer).post(
        "/api/v1/orders", cart_body(make_menu()), format="json", secure=True, HTTP_IDEMPOTENCY_KEY="serving-1"
    )
    assert response.status_code == 201, response.json()
    bearer = {"Authorization": f"Bearer {RefreshToken.for_user(customer).access_token}"}
    return Order.objects.get(pk=response.json()["id"]), bearer


@pytest.mark.django_db
def test_a_request_refused_before_any_view_is_counted_with_its_status(web: httpx.Client) -> None:
    labels = {"status": "400", "view": "<unnamed view>", "method": "GET"}
    before = metric("django_http_responses_total_by_status_view_method_total", **labels)

    assert web.get("/api/v1/orders", headers={"Host": "evil.example"}).status_code == 400

    assert metric("django_http_responses_total_by_status_view_method_total", **labels) == before + 1


# --- The liveness probe ----------------------------------------------------------------------------


def test_a_probe_is_answered_by_the_stack_once_then_replayed(web: httpx.Client) -> None:
    entered: list[object] = []

    def count(**_: Any) -> None:
        entered.append(None)

    request_started.connect(count)
    try:
        first, second, third = [web.get("/healthz", headers={"X-Request-ID": f"probe-{n}"}) for n in range(3)]
    finally:
        request_started.disconnect(count)

    assert len(entered) == 1
    assert [r.headers["X-Request-ID"] for r in (first, second, third)] == ["probe-0", "probe-1", "probe-2"]
    for replayed in (second, third):
        assert (replayed.status_code, replayed.content) == (first.status_code, first.content)
        assert without_per_request_headers(replayed) == without_per_request_headers(first)
        assert replayed.headers["Expires"]
    assert {name: first.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def without_per_request_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: value for name, value in response.headers.items() if name not in ("expires", "x-request-id")
    }


def test_replayed_probes_get_fresh_request_ids_and_are_counted(web: httpx.Client) -> None:
    labels = {"status": "200", "view": "healthz", "method": "GET"}
    before = metric("django_http_responses_total_by_status_view_method_total", **labels)
    route = {"view": "healthz", "transport": "https", "method": "GET"}
    routed = metric("django_http_requests_total_by_view_transport_method_total", **route)

    ids = {web.get("/healthz").headers["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3
    assert metric("django_http_responses_total_by_status_view_method_total", **labels) == before + 3
    assert metric("django_http_requests_total_by_view_transport_method_total", **route) == routed + 3


def test_probes_over_tls_and_plain_http_are_kept_apart(web: httpx.Client) -> None:
    for _ in range(2):
        secure = web.get("/healthz")
        plain = web.get("/healthz", headers={"X-Forwarded-Proto": "http"})

        assert secure.status_code == plain.status_code == 200
        assert "strict-transport-security" in secure.headers
        assert "strict-transport-security" not in plain.headers


def test_a_probe_from_a_host_not_allowed_is_refused_every_time(web: httpx.Client) -> None:
    for _ in range(3):
        assert web.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert web.get("/healthz").status_code == 200


def test_a_probe_asking_for_a_language_gets_it(web: httpx.Client) -> None:
    web.get("/healthz")

    english = web.get("/healthz", headers={"Accept-Language": "en"})

    assert english.headers["Content-Language"] == "en"


@pytest.mark.parametrize("entry_point", ["loship.wsgi", "loship.asgi"])
def test_the_entry_points_freeze_the_loaded_heap_out_of_the_collectors_generations(entry_point: str) -> None:
    """A process serving through either entry point has moved its loaded heap out of the garbage
    collector's reach, so a full collection does not walk all of Django (`freeze_startup_heap`)."""
    import os
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", f"import gc, {entry_point}; print(gc.get_freeze_count())"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "loship.settings"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert int(loaded.stdout.strip().splitlines()[-1]) > 10_000
