"""Regressions found by fuzzing (tests/platform/test_api_fuzz.py and the schemathesis CLI): bad input that
answered 500 or HTML, and answers that did not match the documented schema."""

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
