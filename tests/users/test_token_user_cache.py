"""The user behind an access token comes from a short cache (users/authentication.py): a change saved
through the ORM applies on the user's next request; validated tokens are kept per process, their
expiry checked on every use."""

from datetime import timedelta
from typing import Any

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from tests.conftest import authenticated_client
from tests.factories import DEFAULT_PASSWORD, UserFactory
from users.authentication import cached_user, user_cache_key
from users.models import Role, User

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def refused(response: Any) -> bool:
    return bool(response.status_code == 401 and response.json()["error"]["code"] == "token_invalid")


def test_a_signed_in_user_is_read_from_the_database_once() -> None:
    client = authenticated_client(UserFactory())
    assert client.get(ME).status_code == 200

    with CaptureQueriesContext(connection) as later:
        assert client.get(ME).status_code == 200

    assert not [q["sql"] for q in later.captured_queries if 'FROM "users_user"' in q["sql"]]


def test_a_deactivated_user_is_refused_on_their_next_request() -> None:
    user = UserFactory()
    client = authenticated_client(user)
    assert client.get(ME).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert refused(client.get(ME))


def test_a_role_taken_away_applies_on_the_next_request() -> None:
    driver = UserFactory(roles=[Role.CUSTOMER, Role.DRIVER])
    client = authenticated_client(driver)
    assert client.get("/api/v1/driver/profile").status_code == 200

    driver.roles = [Role.CUSTOMER]
    driver.save()

    response = client.get("/api/v1/driver/profile")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "not_a_driver")


def test_a_deleted_user_is_refused() -> None:
    user = UserFactory()
    client = authenticated_client(user)
    assert client.get(ME).status_code == 200

    user.delete()

    assert refused(client.get(ME))


def test_a_profile_change_shows_on_the_next_request() -> None:
    user = UserFactory(full_name="Lan")
    client = authenticated_client(user)
    assert client.get(ME).json()["full_name"] == "Lan"

    assert client.patch(ME, {"full_name": "Lan Nguyễn"}, format="json").status_code == 200

    assert client.get(ME).json()["full_name"] == "Lan Nguyễn"


def test_the_cache_holds_no_password_hash_and_a_password_change_still_checks_the_old_one() -> None:
    user = UserFactory()
    client = authenticated_client(user)
    assert client.get(ME).status_code == 200
    assert user.password not in repr(cache.get(user_cache_key(user.pk)))
    cached = cached_user(user.pk)
    assert cached is not None and "password" in cached.get_deferred_fields()

    wrong = client.post(
        f"{ME}/password", {"old_password": "nope", "new_password": "An0ther-Secret!"}, format="json"
    )
    right = client.post(
        f"{ME}/password", {"old_password": DEFAULT_PASSWORD, "new_password": "An0ther-Secret!"}, format="json"
    )

    assert wrong.status_code == 400
    assert right.status_code == 204
    assert User.objects.get(pk=user.pk).check_password("An0ther-Secret!")


def test_a_kept_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    user = UserFactory()
    token = AccessToken.for_user(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(ME).status_code == 200

    later = aware_utcnow() + timedelta(minutes=16)
    monkeypatch.setattr("users.authentication.aware_utcnow", lambda: later)

    assert refused(client.get(ME))


def test_without_redis_the_user_is_read_from_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    client = authenticated_client(UserFactory())
    nowhere = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    monkeypatch.setattr(cache._cache, "get_client", lambda *args, **kwargs: nowhere)

    assert client.get(ME).status_code == 200
