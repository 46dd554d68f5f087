"""Property-based fuzzing of every /api/v1/ operation against the project's own OpenAPI schema.

Schemathesis generates valid and invalid requests from `/api/schema/` and sends them in-process to the
WSGI app (same thread, so the same test-database transaction). Each operation is called as the role it
is for (driver, merchant staff, ops, customer; auth endpoints anonymously) over a small world that has a
merchant with a menu, a placed order, an online driver and ops. Every answer must be below 500, have a
status the operation documents, and match the schema documented for it (for a 4xx, the error shape
`{"error": {"code", "message", "fields"}}`); a 4xx must also leave the row count of every table of
ours unchanged (a refusal writes nothing).

The run is derandomized (the same examples every time) and bounded per operation, so it stays well under
a minute. Explore further by hand against a running server with the CLI, e.g.:
`st run http://127.0.0.1:8000/api/schema/?format=json -H "Authorization: Bearer $TOKEN" \
   --hypothesis-max-examples 200 -D all \
   -c not_a_server_error,status_code_conformance,response_schema_conformance`
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.apps import apps
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import authenticated_client
from tests.drivers.conftest import make_driver
from tests.factories import AddressFactory, UserFactory
from tests.orders.factories import cart_body, make_menu, make_staff
from users.models import Role

EXAMPLES_PER_OPERATION = 20
OUR_PACKAGES = {"loship", "users", "merchants", "orders", "drivers", "chat", "ops"}


def _openapi() -> dict[str, Any]:
    """The schema `/api/schema/` serves, generated directly (collection runs before the test hosts)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


schema = schemathesis.from_dict(
    _openapi(),
    app=get_wsgi_application(),
    data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
).include(path_regex=r"^/api/v1/")

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # schemathesis 3 on jsonschema 4.18+
]


@dataclass
class World:
    headers: dict[str, dict[str, str]]

    def headers_for(self, path: str) -> dict[str, str]:
        """The role an operation is for, read from its path."""
        for prefix, role in (
            ("/api/v1/auth/", "anonymous"),
            ("/api/v1/payments/", "anonymous"),
            ("/api/v1/driver/", "driver"),
            ("/api/v1/merchant/", "merchant"),
            ("/api/v1/ops/", "ops"),
        ):
            if path.startswith(prefix):
                return self.headers[role]
        return self.headers["customer"]


def _bearer(user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@pytest.fixture
def keep_the_test_connection(world: "World") -> Iterator[None]:
    """As Django's test client does: the WSGI app must not close the test transaction's connection.

    After `world`, whose test-client requests reconnect the handlers when they finish."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db: None) -> World:
    menu = make_menu()
    customer = UserFactory()
    AddressFactory(user=customer)
    placed = authenticated_client(customer).post(
        "/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY="fuzz-world"
    )
    assert placed.status_code == 201, placed.json()
    return World(
        headers={
            "anonymous": {},
            "customer": _bearer(customer),
            "merchant": _bearer(make_staff(menu.merchant)),
            "driver": _bearer(make_driver()),
            "ops": _bearer(UserFactory(roles=[Role.OPS], is_staff=True)),
        }
    )


def row_counts() -> dict[str, int]:
    """Rows in every table of our own apps, in one query: a refusal must leave them all as they were."""
    tables = sorted(
        model._meta.db_table
        for model in apps.get_models()
        if model.__module__.split(".")[0] in OUR_PACKAGES and model._meta.managed
    )
    with connection.cursor() as cursor:
        # Table names come from our models' metadata, never from a request.
        counts = ", ".join(f"(SELECT count(*) FROM {connection.ops.quote_name(table)})" for table in tables)  # noqa: S608
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


def assert_error_shape(status: int, body: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, (status, body)
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], (status, body)
    assert isinstance(error.get("message"), str) and error["message"], (status, body)
    assert isinstance(error.get("fields"), dict), (status, body)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_and_every_4xx_has_the_error_shape(
    case: Any, world: World, keep_the_test_connection: None
) -> None:
    before = row_counts()
    response = case.call_wsgi(headers={"Host": "testserver", **world.headers_for(case.path)})
    case.validate_response(
        response, checks=(not_a_server_error, status_code_conformance, response_schema_conformance)
    )
    if 400 <= response.status_code < 500:
        assert row_counts() == before, f"{case.method} {case.formatted_path} wrote rows and answered 4xx"
        assert response.headers["Content-Type"].startswith("application/json"), (
            response.status_code,
            response.get_data()[:300],
        )
        assert_error_shape(response.status_code, response.json)


def test_the_schema_generates_valid_and_without_warnings(tmp_path: Path) -> None:
    """`manage.py spectacular --validate --fail-on-warn`: the schema the fuzzing above relies on."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/orders" in out.read_text()
