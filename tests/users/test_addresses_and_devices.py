from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import authenticated_client
from tests.factories import AddressFactory, DeviceFactory, UserFactory
from users.models import Address, Device

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/v1/me/addresses"
DEVICES = "/api/v1/me/devices"
HOME = {"label": "Nhà", "text": "12 Nguyễn Huệ, Q1", "lat": "10.773600", "lng": "106.703800"}


def test_first_address_becomes_the_default(customer_client: APIClient, customer: Any) -> None:
    response = customer_client.post(ADDRESSES, HOME, format="json")

    assert response.status_code == 201
    assert response.json()["is_default"] is True
    assert Address.objects.get(user=customer).is_default


def test_a_new_default_address_replaces_the_old_one(customer_client: APIClient, customer: Any) -> None:
    first = customer_client.post(ADDRESSES, HOME, format="json").json()
    office = {**HOME, "label": "Công ty", "is_default": True}

    second = customer_client.post(ADDRESSES, office, format="json").json()

    defaults = list(Address.objects.filter(user=customer, is_default=True).values_list("id", flat=True))
    assert defaults == [second["id"]]
    assert customer_client.get(f"{ADDRESSES}/{first['id']}").json()["is_default"] is False


def test_deleting_the_default_promotes_another_address(customer_client: APIClient, customer: Any) -> None:
    first = customer_client.post(ADDRESSES, HOME, format="json").json()
    second = customer_client.post(ADDRESSES, {**HOME, "label": "Công ty"}, format="json").json()

    assert customer_client.delete(f"{ADDRESSES}/{first['id']}").status_code == 204

    assert Address.objects.get(user=customer).id == second["id"]
    assert Address.objects.get(user=customer).is_default


@pytest.mark.parametrize(
    ("field", "value"), [("lat", "91"), ("lng", "-181"), ("lat", "north"), ("label", "")]
)
def test_an_address_out_of_range_is_refused_and_not_saved(
    customer_client: APIClient, field: str, value: str
) -> None:
    response = customer_client.post(ADDRESSES, {**HOME, field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Address.objects.count() == 0


def test_a_customer_cannot_read_change_or_delete_another_customers_address(
    customer_client: APIClient,
) -> None:
    theirs = AddressFactory()
    url = f"{ADDRESSES}/{theirs.id}"

    responses = [
        customer_client.get(url),
        customer_client.patch(url, {"label": "Mine now"}, format="json"),
        customer_client.delete(url),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert all(r.json()["error"]["code"] == "not_found" for r in responses)
    theirs.refresh_from_db()
    assert theirs.label == "Nhà"
    assert customer_client.get(ADDRESSES).json() == []


def test_a_customer_cannot_delete_another_customers_device(customer_client: APIClient) -> None:
    theirs = DeviceFactory()

    response = customer_client.delete(f"{DEVICES}/{theirs.id}")

    assert response.status_code == 404
    assert Device.objects.filter(pk=theirs.pk).exists()


def test_registering_a_known_token_moves_it_to_the_new_user(
    customer_client: APIClient, customer: Any
) -> None:
    previous_owner = UserFactory()
    DeviceFactory(user=previous_owner, token="shared-phone-token")

    response = customer_client.post(
        DEVICES, {"platform": "ios", "token": "shared-phone-token"}, format="json"
    )

    assert response.status_code == 201
    device = Device.objects.get(token="shared-phone-token")
    assert device.user == customer
    assert device.platform == "ios"
    assert authenticated_client(previous_owner).get(DEVICES).json() == []


def test_unknown_platform_is_refused(customer_client: APIClient) -> None:
    response = customer_client.post(DEVICES, {"platform": "symbian", "token": "t"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["platform"][0]["code"] == "invalid_choice"
