"""Regressions found by fuzzing (tests/platform/test_api_fuzz.py and the schemathesis CLI): bad input that
answered 500 or HTML, and answers that did not match the documented schema."""

import json
import time
from typing import Any

import pytest
from rest_framework.test import APIClient
from werkzeug.wrappers import Response as WerkzeugResponse

from tests.conftest import authenticated_client
from tests.drivers.conftest import make_driver
from tests.factories import UserFactory
from tests.merchants.factories import CENTER_LAT, CENTER_LNG
from tests.orders.factories import cart_body, make_menu, make_staff
from tests.platform.test_api_fuzz import schema
from users.models import Role

pytestmark = pytest.mark.django_db

BEYOND_BIGINT = 46461352525455130833290760139670106101


def test_a_nearby_page_past_any_offset_is_a_validation_error(api_client: APIClient) -> None:
    """Was a 500 (`bigint out of range` in OFFSET); page is now bounded like page_size."""
    response = api_client.get(
        "/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, "page": 461168601842738792}
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [item["code"] for item in error["fields"]["page"]] == ["max_value"]


def test_the_last_allowed_nearby_page_is_an_ordinary_404_when_empty(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/merchants", {"lat": CENTER_LAT, "lng": CENTER_LNG, "page": 10_000})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_driver_order_id_beyond_bigint_is_not_found() -> None:
    """Was a 500 (`bigint out of range` in the offers' order_ids array lookup)."""
    response = authenticated_client(make_driver()).get(f"/api/v1/driver/orders/{BEYOND_BIGINT}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_too_many_query_parameters_is_a_json_400(api_client: APIClient) -> None:
    """Was Django's HTML 400 page (TooManyFieldsSent); now the one error shape via handler400."""
    params = "&".join(f"f{n}=1" for n in range(1_200))
    response = api_client.get(f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}&{params}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_disallowed_host_is_a_json_400(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/me", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def _conforms(path: str, response: Any) -> None:
    """The body matches what the OpenAPI schema documents for this GET (schemathesis' own check)."""
    assert response.status_code == 200, response.json()
    as_werkzeug = WerkzeugResponse(
        response.content, status=response.status_code, headers=dict(response.items())
    )
    schema[path]["GET"].validate_response(as_werkzeug)


def test_the_order_lists_are_documented_as_the_pages_they_are() -> None:
    """Were documented as bare arrays while every answer is a page ({count?, next, previous, results})."""
    menu = make_menu()
    customer = UserFactory()
    placed = authenticated_client(customer).post(
        "/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="documented-page"
    )
    assert placed.status_code == 201, placed.json()
    ops = UserFactory(roles=[Role.OPS], is_staff=True)

    _conforms("/api/v1/orders", authenticated_client(customer).get("/api/v1/orders"))
    _conforms(
        "/api/v1/merchant/orders",
        authenticated_client(make_staff(menu.merchant)).get("/api/v1/merchant/orders"),
    )
    _conforms("/api/v1/ops/orders", authenticated_client(ops).get("/api/v1/ops/orders"))


def test_an_empty_email_and_hh_mm_opening_hours_match_their_documented_formats() -> None:
    """Were documented as `format: email` (the answer is "" without one) and `format: time` (HH:MM)."""
    menu = make_menu()
    customer = UserFactory(email="")
    staff = authenticated_client(make_staff(menu.merchant))

    me = authenticated_client(customer).get("/api/v1/me")
    assert me.json()["email"] == ""
    _conforms("/api/v1/me", me)
    page = APIClient().get(f"/api/v1/merchants/{menu.merchant.pk}")
    assert page.json()["opening_hours"][0]["opens_at"] == "00:00"
    _conforms("/api/v1/merchants/{id}", page)
    _conforms(
        "/api/v1/merchant/merchants/{id}/hours",
        staff.get(f"/api/v1/merchant/merchants/{menu.merchant.pk}/hours"),
    )


def test_outside_the_api_a_bad_request_keeps_django_s_page(api_client: APIClient) -> None:
    response = api_client.get("/admin/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("timestamp_ms", [10**30, -(10**30), 253_402_300_800_000, -62_135_596_800_001])
def test_a_location_fix_timestamp_outside_the_calendar_is_rejected_not_a_500(timestamp_ms: int) -> None:
    """Was a 500 (OverflowError / ValueError from datetime.fromtimestamp); now that fix's own code."""
    driver = authenticated_client(make_driver())
    good = {"lat": 10.775, "lng": 106.70, "timestamp": int(time.time() * 1000) + 1_000}  # after make_driver's
    bad = {"lat": 10.776, "lng": 106.70, "timestamp": timestamp_ms}

    response = driver.post("/api/v1/driver/locations", {"fixes": [good, bad]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "accepted": 1,
        "ignored": 0,
        "rejected": [{"index": 1, "code": "location_timestamp_invalid"}],
    }


# --- Production hardening ----------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return '{"phone": ' + "[" * depth + "]" * depth + ', "password": "x"}'


def test_a_deeply_nested_login_body_is_refused_in_the_error_shape(api_client: APIClient) -> None:
    """Was a 500 (RecursionError in json.loads) on an anonymous endpoint, for a 4 KB body."""
    response = api_client.post("/api/v1/auth/login", _nested(1_000), content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_too_deep"


def test_a_deeply_nested_order_body_is_refused_in_the_error_shape() -> None:
    client = authenticated_client(UserFactory())

    response = client.post(
        "/api/v1/orders", _nested(1_000), content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_nesting(api_client: APIClient) -> None:
    body = '{"phone": "' + "[" * 500 + '\\"{{", "password": "x"}'

    response = api_client.post("/api/v1/auth/login", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"  # the phone is too long, not too deep


@pytest.mark.parametrize("body", ['{"phone": "+84', '{"phone": [[[[', "[1, 2,]", '{"a": NaN}', '"\\'])
def test_malformed_json_is_still_a_malformed_request(api_client: APIClient, body: str) -> None:
    response = api_client.post("/api/v1/auth/login", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_body_over_the_upload_limit_is_a_413_in_the_error_shape(
    api_client: APIClient, settings: Any
) -> None:
    """Was parsed whole whatever its size: DRF reads the stream, past Django's body limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = '{"phone": "' + "9" * 2_000 + '", "password": "x"}'

    response = api_client.post("/api/v1/auth/login", body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "request_too_large"


def test_the_upload_limit_leaves_room_for_the_largest_legitimate_bodies() -> None:
    """A full batch of location fixes, and the largest cart (50 lines of 30 options and a 255-character
    Vietnamese note each, escaped as JSON does by default), fit five times over in 1 MB."""
    from django.conf import settings

    from drivers.services.profiles import MAX_FIXES_PER_BATCH

    fix = {"lat": 10.775123, "lng": 106.701234, "timestamp": 1_790_000_000_000, "heading": 359.9}
    fixes = {"fixes": [fix | {"speed": 12.5, "accuracy": 15.0}] * MAX_FIXES_PER_BATCH}
    note = "ệ" * 255
    line = {"item_id": 2**40, "quantity": 99, "option_ids": [2**40] * 30, "note": note}
    cart = {"merchant_id": 2**40, "lines": [line] * 50, "delivery_address": note, "note": note * 2}

    largest = max(len(json.dumps(fixes)), len(json.dumps(cart)))
    assert 5 * largest < settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024


@pytest.mark.parametrize("cursor", ["cD1nYXJiYWdl", "garbage", "bz0tMQ==", "cD0yMDI2LTEzLTQ1"])
def test_a_tampered_order_list_cursor_is_a_400(cursor: str) -> None:
    """`p=garbage` was a 500 (a position that is no date), a cursor that is no base64 a 404."""
    response = authenticated_client(UserFactory()).get("/api/v1/orders", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cursor_invalid"


@pytest.mark.parametrize("cursor", ["cD1nYXJiYWdl", "garbage"])
def test_a_tampered_notification_cursor_is_a_400(cursor: str) -> None:
    response = authenticated_client(UserFactory()).get("/api/v1/me/notifications", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cursor_invalid"


def _driver_routes() -> list[tuple[str, str]]:
    """(method, path) of every operation under /api/v1/driver/, from the URL resolver."""
    from django.urls import URLPattern, URLResolver, get_resolver

    routes: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/driver/"):
                view = pattern.callback.view_class  # type: ignore[attr-defined]
                path = "/" + route.replace("<int:offer_id>", "1").replace("<int:job_id>", "1")
                path = path.replace("<int:order_id>", "1")
                assert "<" not in path, path
                methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
                routes.extend((method, path) for method in methods)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_driver_operation_asks_an_anonymous_caller_to_sign_in(api_client: APIClient) -> None:
    """Were 403 `not_a_driver` without WWW-Authenticate, where every other protected operation is a 401."""
    routes = _driver_routes()
    assert len(routes) >= 14
    reference = api_client.get("/api/v1/me")
    assert reference.status_code == 401

    for method, path in routes:
        response = getattr(api_client, method)(path, {}, format="json")
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "not_authenticated", (method, path)
        assert response["WWW-Authenticate"] == reference["WWW-Authenticate"], (method, path)


def test_every_driver_operation_tells_a_signed_in_customer_they_are_not_a_driver() -> None:
    client = authenticated_client(UserFactory())

    for method, path in _driver_routes():
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "not_a_driver", (method, path)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/driver/profile", {"plate": "59-X1 123.45", "rating": 5}),
        ("post", "/api/v1/driver/online", {"is_ops": True}),
        ("put", "/api/v1/driver/shift", {"shift_ends_at": None, "pay": 1}),
        ("post", "/api/v1/driver/locations", {"fixes": [{"lat": 1, "lng": 1, "timestamp": 1}], "x": 1}),
    ],
)
def test_an_unknown_field_on_the_driver_api_is_refused_like_elsewhere(
    method: str, path: str, body: Any
) -> None:
    """The driver API ignored unknown fields where users, merchants and orders refuse them."""
    customer = authenticated_client(UserFactory())
    customer_says = customer.patch("/api/v1/me", {"full_name": "A", "x": 1}, format="json")
    driver = authenticated_client(make_driver())

    response = getattr(driver, method)(path, body, format="json")

    assert response.status_code == customer_says.status_code == 400
    unknown = sorted(set(body) - {"plate", "shift_ends_at", "fixes"})
    assert response.json()["error"]["code"] == customer_says.json()["error"]["code"]
    assert response.json()["error"]["fields"] == {
        name: customer_says.json()["error"]["fields"]["x"] for name in unknown
    }


def test_an_unknown_field_on_the_ops_dispatch_api_is_refused() -> None:
    ops = authenticated_client(UserFactory(roles=[Role.OPS]))

    response = ops.post("/api/v1/ops/dispatch/unassign", {"order_id": 1, "force": True}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["force"]
