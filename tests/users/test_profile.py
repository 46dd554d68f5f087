from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_profile_update_changes_only_profile_fields(customer_client: APIClient, customer: Any) -> None:
    response = customer_client.patch(
        "/api/v1/me", {"full_name": "Phạm Minh", "language": "en"}, format="json"
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.full_name, customer.language) == ("Phạm Minh", "en")


def test_profile_update_cannot_grant_roles(customer_client: APIClient, customer: Any) -> None:
    response = customer_client.patch("/api/v1/me", {"roles": ["ops"], "is_staff": True}, format="json")

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.roles == ["customer"]
    assert not customer.is_staff


def test_change_password_needs_the_old_one(customer_client: APIClient, customer: Any) -> None:
    wrong = customer_client.post(
        "/api/v1/me/password", {"old_password": "nope", "new_password": "mới-mật-khẩu-2026"}, format="json"
    )
    right = customer_client.post(
        "/api/v1/me/password",
        {"old_password": DEFAULT_PASSWORD, "new_password": "mới-mật-khẩu-2026"},
        format="json",
    )

    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "password_wrong"
    assert right.status_code == 204
    customer.refresh_from_db()
    assert customer.check_password("mới-mật-khẩu-2026")


def test_a_weak_new_password_is_refused(customer_client: APIClient, customer: Any) -> None:
    response = customer_client.post(
        "/api/v1/me/password", {"old_password": DEFAULT_PASSWORD, "new_password": "12345678"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "password_weak"
    customer.refresh_from_db()
    assert customer.check_password(DEFAULT_PASSWORD)
