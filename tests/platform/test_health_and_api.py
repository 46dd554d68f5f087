from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client


def test_healthz_answers_without_touching_the_database(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_postgres_and_redis_answer(client: Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok"}


@pytest.fixture
def unreachable_postgres() -> Iterator[None]:
    """Point the default connection at a port where nothing listens, then put it back."""
    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(
        HOST="127.0.0.1", PORT="1", OPTIONS={**original["OPTIONS"], "connect_timeout": 1}
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(original)


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_postgres_is_unreachable(client: Client, unreachable_postgres: None) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"postgres": "down", "redis": "ok"}}


def test_an_unknown_url_is_a_json_404(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("not_found", {})
    assert error["message"]


@pytest.mark.django_db
def test_the_openapi_schema_describes_the_auth_endpoints(client: Client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/me/addresses"} <= set(paths)


def test_the_docs_page_is_served_without_a_cdn(client: Client) -> None:
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn.jsdelivr" not in response.content
