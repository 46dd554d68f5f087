"""Account writes are safe to retry: creates and deletes honour an `Idempotency-Key` (the same request
again answers what the first made, 200, and writes nothing), a password change or logout already done
answers as it did, and a key reused for another request is refused."""

from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from loship.idempotency.models import IdempotencyKey
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.retries import sent_twice
from users.models import Address, Device, User

ADDRESSES = "/api/v1/me/addresses"
DEVICES = "/api/v1/me/devices"
HOME = {"label": "Nhà", "text": "12 Nguyễn Huệ, Q1", "lat": "10.773600", "lng": "106.703800"}
PHONE = {"platform": "android", "token": "fcm-token-1"}
REGISTRATION = {"phone": "0912 345 678", "password": "bánh-mì-ngon-2026", "full_name": "Nguyễn Thị Lan"}


@pytest.mark.django_db
def test_an_address_created_twice_with_one_key_is_one_address(
    customer_client: APIClient, customer: Any
) -> None:
    first, again = sent_twice(
        lambda: customer_client.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    )

    assert first.status_code == 201
    assert Address.objects.filter(user=customer).count() == 1


@pytest.mark.django_db
def test_without_a_key_a_create_sent_twice_creates_twice_as_before(
    customer_client: APIClient, customer: Any
) -> None:
    for _ in range(2):
        assert customer_client.post(ADDRESSES, HOME, format="json").status_code == 201

    assert Address.objects.filter(user=customer).count() == 2


@pytest.mark.django_db
def test_an_address_and_a_device_deleted_twice_with_one_key_answer_204_twice(
    customer_client: APIClient, customer: Any
) -> None:
    address = customer_client.post(ADDRESSES, HOME, format="json").json()["id"]
    device = customer_client.post(DEVICES, PHONE, format="json").json()["id"]

    sent_twice(
        lambda: customer_client.delete(f"{ADDRESSES}/{address}", HTTP_IDEMPOTENCY_KEY="d1"), again_status=204
    )
    sent_twice(
        lambda: customer_client.delete(f"{DEVICES}/{device}", HTTP_IDEMPOTENCY_KEY="d2"), again_status=204
    )
    keyless = customer_client.delete(f"{ADDRESSES}/{address}")

    assert keyless.status_code == 404
    assert not Address.objects.filter(user=customer).exists()


@pytest.mark.django_db
def test_a_device_registered_twice_with_one_key_answers_the_same_device(
    customer_client: APIClient, customer: Any
) -> None:
    first, _ = sent_twice(
        lambda: customer_client.post(DEVICES, PHONE, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    )

    assert first.status_code == 201
    assert Device.objects.filter(user=customer).count() == 1


@pytest.mark.django_db
def test_a_key_reused_for_another_request_is_refused_and_writes_nothing(customer_client: APIClient) -> None:
    assert customer_client.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201

    other_body = customer_client.post(
        ADDRESSES, {**HOME, "label": "Công ty"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    other_endpoint = customer_client.post(DEVICES, PHONE, format="json", HTTP_IDEMPOTENCY_KEY="k")
    too_long = customer_client.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="x" * 101)

    assert (other_body.status_code, other_body.json()["error"]["code"]) == (422, "idempotency_key_reused")
    assert (other_endpoint.status_code, other_endpoint.json()["error"]["code"]) == (
        422,
        "idempotency_key_reused",
    )
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (400, "idempotency_key_invalid")
    assert Address.objects.count() == 1
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_keys_are_per_user(customer_client: APIClient) -> None:
    other = authenticated_client(UserFactory())

    mine = customer_client.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="same")
    theirs = other.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="same")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.django_db
def test_a_refused_request_keeps_no_key_so_its_retry_runs_again(customer_client: APIClient) -> None:
    refused = customer_client.post(ADDRESSES, {**HOME, "lat": "91"}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    missing = customer_client.delete(f"{ADDRESSES}/999999", HTTP_IDEMPOTENCY_KEY="m")

    assert (refused.status_code, missing.status_code) == (400, 404)
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_registration_sent_twice_with_one_key_answers_the_same_account(api_client: APIClient) -> None:
    register = lambda: api_client.post(  # noqa: E731
        "/api/v1/auth/register", REGISTRATION, format="json", HTTP_IDEMPOTENCY_KEY="signup-1"
    )

    first = register()
    again = register()
    wrong_password = api_client.post(
        "/api/v1/auth/register", {**REGISTRATION, "password": "phở-bò-tái-2026"}, format="json",
        HTTP_IDEMPOTENCY_KEY="signup-1",
    )  # fmt: skip
    no_key = api_client.post("/api/v1/auth/register", REGISTRATION, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["user"] == first.json()["user"]
    me = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {again.json()['tokens']['access']}")
    assert me.json()["id"] == first.json()["user"]["id"]
    assert (wrong_password.status_code, wrong_password.json()["error"]["code"]) == (409, "phone_taken")
    assert (no_key.status_code, no_key.json()["error"]["code"]) == (409, "phone_taken")
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_password_change_and_a_logout_sent_twice_answer_the_same(customer: Any) -> None:
    client = authenticated_client(customer)
    change = {"old_password": DEFAULT_PASSWORD, "new_password": "cà-phê-sữa-đá-2026"}
    refresh = APIClient().post(
        "/api/v1/auth/login", {"phone": customer.phone, "password": DEFAULT_PASSWORD}, format="json"
    )

    sent_twice(lambda: client.post("/api/v1/me/password", change, format="json"), again_status=204)
    sent_twice(
        lambda: client.post("/api/v1/auth/logout", {"refresh": refresh.json()["refresh"]}, format="json")
    )
    wrong = client.post(
        "/api/v1/me/password", {**change, "new_password": "bún-chả-2026-hà-nội"}, format="json"
    )

    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "password_wrong")
    customer.refresh_from_db()
    assert customer.check_password("cà-phê-sữa-đá-2026")


@pytest.mark.django_db
def test_a_token_refresh_sent_twice_with_one_key_answers_the_refresh_token_it_minted(customer: Any) -> None:
    client = APIClient()
    login = {"phone": customer.phone, "password": DEFAULT_PASSWORD}
    spent = client.post("/api/v1/auth/login", login, format="json").json()["refresh"]
    refresh = lambda: client.post(  # noqa: E731
        "/api/v1/auth/refresh", {"refresh": spent}, format="json", HTTP_IDEMPOTENCY_KEY="refresh-1"
    )

    first = refresh()
    again = refresh()
    keyless = client.post("/api/v1/auth/refresh", {"refresh": spent}, format="json")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["refresh"] == first.json()["refresh"] != spent
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {again.json()['access']}")
    assert me.json()["id"] == customer.pk
    assert keyless.status_code == 401
    # Once the app has used the token it got, the old request cannot bring it back.
    assert (
        client.post("/api/v1/auth/refresh", {"refresh": first.json()["refresh"]}, format="json").status_code
        == 200
    )
    assert refresh().status_code == 401


@pytest.mark.django_db
def test_a_profile_change_sent_twice_answers_the_same(customer_client: APIClient) -> None:
    sent_twice(lambda: customer_client.patch("/api/v1/me", {"full_name": "Trần Văn Nam"}, format="json"))


@pytest.mark.django_db(transaction=True)
def test_identical_creates_racing_with_one_key_make_one_address(transactional_db: None) -> None:
    customer = UserFactory()
    client = authenticated_client(customer)

    responses = run_at_once(
        6, lambda _: client.post(ADDRESSES, HOME, format="json", HTTP_IDEMPOTENCY_KEY="race")
    )

    assert Counter(response.status_code for response in responses) == {201: 1, 200: 5}
    assert len({response.json()["id"] for response in responses}) == 1
    assert Address.objects.filter(user=customer).count() == 1
