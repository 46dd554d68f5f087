from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"


def _register(client: APIClient, **overrides: Any) -> Any:
    body = {"phone": "0912 345 678", "password": "bánh-mì-ngon-2026", "full_name": "Nguyễn Thị Lan"}
    body.update(overrides)
    return client.post(REGISTER, body, format="json")


def test_registration_creates_a_customer_with_a_normalized_phone_and_returns_tokens(
    api_client: APIClient,
) -> None:
    response = _register(api_client)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["user"]["phone"] == "+84912345678"
    assert body["user"]["roles"] == [Role.CUSTOMER]
    assert {"access", "refresh"} <= set(body["tokens"])
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {body['tokens']['access']}")
    assert me.json()["full_name"] == "Nguyễn Thị Lan"


def test_the_same_number_in_another_spelling_is_a_conflict_and_writes_nothing(api_client: APIClient) -> None:
    assert _register(api_client).status_code == 201

    response = _register(api_client, phone="84912345678", full_name="Someone Else")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "phone_taken"
    assert User.objects.count() == 1
    assert User.objects.get().full_name == "Nguyễn Thị Lan"


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        ({"phone": "12345"}, 400, "phone_invalid", "phone"),
        ({"password": "123"}, 400, "password_weak", "password"),
        ({"password": "password"}, 400, "password_weak", "password"),
        ({"full_name": ""}, 400, "invalid", "full_name"),
        ({"roles": ["ops"]}, 400, "invalid", "roles"),
        ({"email": "not-an-email"}, 400, "invalid", "email"),
    ],
)
def test_bad_registration_input_is_refused_with_a_code_and_writes_nothing(
    api_client: APIClient, overrides: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = _register(api_client, **overrides)

    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert field in error["fields"]
    assert error["message"]
    assert User.objects.count() == 0


def test_missing_fields_are_each_named(api_client: APIClient) -> None:
    response = api_client.post(REGISTER, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"phone", "password", "full_name"}


def test_errors_speak_english_when_asked(api_client: APIClient) -> None:
    vi = _register(api_client, phone="12345")
    en = api_client.post(
        REGISTER,
        {"phone": "12345", "password": "bánh-mì-ngon-2026", "full_name": "Lan"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert vi.json()["error"]["message"] == "Số điện thoại không hợp lệ."
    assert en.json()["error"]["message"] == "This is not a valid phone number."


def test_login_accepts_any_spelling_of_the_phone(api_client: APIClient) -> None:
    UserFactory(phone="+84912345678")

    response = api_client.post(LOGIN, {"phone": "0912 345 678", "password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 200
    assert {"access", "refresh"} == set(response.json())


def test_login_with_a_wrong_password_is_401_with_a_code(api_client: APIClient) -> None:
    UserFactory(phone="+84912345678")

    response = api_client.post(LOGIN, {"phone": "0912345678", "password": "wrong-one"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_a_disabled_account_cannot_log_in(api_client: APIClient) -> None:
    UserFactory(phone="+84912345678", is_active=False)

    response = api_client.post(LOGIN, {"phone": "0912345678", "password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_disabled"


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api_client: APIClient) -> None:
    UserFactory(phone="+84912345678")
    tokens = api_client.post(
        LOGIN, {"phone": "0912345678", "password": DEFAULT_PASSWORD}, format="json"
    ).json()

    rotated = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != tokens["refresh"]
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "token_invalid"


def test_logout_blacklists_the_refresh_token(api_client: APIClient) -> None:
    UserFactory(phone="+84912345678")
    tokens = api_client.post(
        LOGIN, {"phone": "0912345678", "password": DEFAULT_PASSWORD}, format="json"
    ).json()

    logout = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json")
    refresh = api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert logout.status_code == 200
    assert refresh.status_code == 401


def test_protected_endpoints_need_a_token(api_client: APIClient) -> None:
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_garbage_token_is_refused(api_client: APIClient) -> None:
    response = api_client.get(ME, HTTP_AUTHORIZATION="Bearer not.a.token")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_login_attempts_on_one_phone_are_rate_limited_whatever_the_spelling(
    api_client: APIClient, throttle_rates: Any
) -> None:
    throttle_rates(auth_phone="3/min", auth_ip="100/min")
    UserFactory(phone="+84912345678")
    for spelling in ["0912345678", "+84912345678", "84912345678"]:
        assert api_client.post(LOGIN, {"phone": spelling, "password": "x"}, format="json").status_code == 401

    response = api_client.post(LOGIN, {"phone": "0912 345 678", "password": DEFAULT_PASSWORD}, format="json")

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert int(response["Retry-After"]) > 0
    assert error["retry_after"] == int(response["Retry-After"])
    other_number = api_client.post(LOGIN, {"phone": "0987654321", "password": "x"}, format="json")
    assert other_number.status_code == 401


def test_registration_is_rate_limited_per_ip(api_client: APIClient, throttle_rates: Any) -> None:
    throttle_rates(auth_phone="100/min", auth_ip="2/min")

    statuses = [_register(api_client, phone=f"091200000{i}").status_code for i in range(1, 4)]

    assert statuses == [201, 201, 429]
    assert User.objects.count() == 2


def test_logins_and_registrations_are_refused_while_the_rate_limits_cannot_count(
    api_client: APIClient, cut_redis: Callable[[], None]
) -> None:
    UserFactory(phone="+84912345678")
    cut_redis()

    login = api_client.post(LOGIN, {"phone": "0912345678", "password": DEFAULT_PASSWORD}, format="json")
    registration = _register(api_client, phone="0912000009")

    for response in (login, registration):
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "rate_limit_unavailable"
        assert int(response["Retry-After"]) > 0
    assert User.objects.count() == 1
