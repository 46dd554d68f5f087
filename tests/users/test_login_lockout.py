"""Login lockout: LOGIN_LOCKOUT_FAILURES wrong passwords in a row lock a phone number for
LOGIN_LOCKOUT_MINUTES (423 `account_locked`, even with the right password), beside the rate limits."""

from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from loship.errors import ApplicationError
from tests.concurrency import run_at_once
from tests.factories import DEFAULT_PASSWORD, UserFactory
from users import services
from users.models import LoginLock

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
PHONE = "+84912345678"


@pytest.fixture(autouse=True)
def _three_strikes(settings: Any, throttle_rates: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_MINUTES = 15
    throttle_rates(auth_phone="1000/min", auth_ip="1000/min")


def _login(client: APIClient, password: str, phone: str = PHONE) -> Any:
    return client.post(LOGIN, {"phone": phone, "password": password}, format="json")


def test_three_wrong_passwords_lock_the_account_even_for_the_right_password(api_client: APIClient) -> None:
    UserFactory(phone=PHONE)
    first, second = _login(api_client, "wrong-1"), _login(api_client, "wrong-2")

    third = _login(api_client, "wrong-3")
    right = _login(api_client, DEFAULT_PASSWORD, phone="0912 345 678")

    assert [first.status_code, second.status_code] == [401, 401]
    assert third.status_code == right.status_code == 423
    error = right.json()["error"]
    assert error["code"] == "account_locked"
    unlocks_at = datetime.fromisoformat(error["locked_until"])
    assert timedelta(minutes=14) < unlocks_at - timezone.now() <= timedelta(minutes=15)
    assert 14 * 60 < int(right["Retry-After"]) <= 15 * 60
    assert "access" not in right.json()


def test_the_lock_lifts_by_itself_when_its_time_is_up(api_client: APIClient) -> None:
    UserFactory(phone=PHONE)
    for attempt in range(3):
        _login(api_client, f"wrong-{attempt}")
    assert _login(api_client, DEFAULT_PASSWORD).status_code == 423

    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        right = _login(api_client, DEFAULT_PASSWORD)
        wrong_again = _login(api_client, "wrong-again")

    assert right.status_code == 200
    assert wrong_again.status_code == 401  # the count started over


def test_a_successful_login_resets_the_count(api_client: APIClient) -> None:
    UserFactory(phone=PHONE)
    statuses = [
        _login(api_client, password).status_code
        for password in ["wrong-1", "wrong-2", DEFAULT_PASSWORD, "wrong-3", "wrong-4", DEFAULT_PASSWORD]
    ]

    assert statuses == [401, 401, 200, 401, 401, 200]


def test_ops_unlock_an_account_from_the_admin(api_client: APIClient) -> None:
    user = UserFactory(phone=PHONE)
    for attempt in range(3):
        _login(api_client, f"wrong-{attempt}")
    assert _login(api_client, DEFAULT_PASSWORD).status_code == 423
    browser = Client()
    browser.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = browser.post(
        "/admin/users/user/", {"action": "unlock_login", "_selected_action": [user.pk]}, follow=True
    )

    assert page.status_code == 200
    assert _login(api_client, DEFAULT_PASSWORD).status_code == 200
    assert not LoginLock.objects.exists()


def test_a_lock_tells_nothing_about_whether_the_number_is_registered(api_client: APIClient) -> None:
    UserFactory(phone=PHONE)
    stranger = "+84987654321"

    def answers(phone: str) -> list[tuple[int, str, set[str]]]:
        responses = [_login(api_client, f"wrong-{n}", phone=phone) for n in range(4)]
        return [(r.status_code, r.json()["error"]["code"], set(r.json()["error"])) for r in responses]

    registered = answers(PHONE)
    assert [status for status, _, _ in registered] == [401, 401, 423, 423]
    assert registered == answers(stranger)


def _wrong_password(index: int) -> str:
    """One login attempt with a wrong password, as the code of the error it answers."""
    try:
        services.log_in(request=None, phone=PHONE, password=f"wrong-{index}")
    except ApplicationError as error:
        return error.code
    raise AssertionError("a wrong password logged in")


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_are_each_counted(settings: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 100
    UserFactory(phone=PHONE)

    results = run_at_once(20, _wrong_password)

    assert results == ["invalid_credentials"] * 20
    assert LoginLock.objects.get(phone=PHONE).failures == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_past_the_limit_answer_nine_401s_and_lock(settings: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 10
    UserFactory(phone=PHONE)

    results = run_at_once(15, _wrong_password)

    assert sorted(results) == ["account_locked"] * 6 + ["invalid_credentials"] * 9
    lock = LoginLock.objects.get(phone=PHONE)
    assert 10 <= lock.failures <= 15  # attempts that saw the lock were refused without counting
    assert lock.locked_until is not None
