"""The committed `openapi.yaml` is the schema the code generates, and that schema documents every error
answer with the one error shape and types every object.

When an API change makes the first test fail, regenerate the file with `make schema` and commit it:
the diff of `openapi.yaml` is the API change a reviewer reads.
"""

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.yaml"
DIFF_LINES_SHOWN = 200


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The schema as `make schema` writes it."""
    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--lang", "en", "--file", str(out))
    return out.read_text()


@pytest.fixture(scope="module")
def schema(generated: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(generated)
    return loaded


def test_the_committed_openapi_yaml_is_the_schema_the_code_generates(generated: str) -> None:
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    if generated == committed:
        return
    diff = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            "openapi.yaml (committed)",
            "openapi.yaml (generated from the code)",
        )
    )
    shown = "".join(diff[:DIFF_LINES_SHOWN])
    more = f"\n... and {len(diff) - DIFF_LINES_SHOWN} more diff lines" if len(diff) > DIFF_LINES_SHOWN else ""
    pytest.fail(
        "The API schema generated from the code differs from the committed openapi.yaml. If the API "
        "change is intended, regenerate the file with `make schema` and commit it.\n\n" + shown + more,
        pytrace=False,
    )


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield f"{method.upper()} {path}", operation


def test_every_error_answer_is_the_error_shape_with_its_codes(schema: dict[str, Any]) -> None:
    for name, operation in _operations(schema):
        errors = {status: answer for status, answer in operation["responses"].items() if int(status) >= 400}
        for status, answer in errors.items():
            body = answer["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorBody"}, (name, status)
            assert answer["description"].startswith("- `"), (name, status, answer["description"])


def test_operations_document_the_refusals_their_views_can_answer(schema: dict[str, Any]) -> None:
    paths = schema["paths"]

    def statuses(path: str, method: str) -> set[int]:
        return {int(status) for status in paths[path][method]["responses"]}

    # Signed in, a body, an object by id, a state conflict.
    assert statuses("/api/v1/orders/{id}/cancel", "post") == {200, 400, 401, 404, 409, 413}
    # A role: ops only; nothing looked up by id.
    assert statuses("/api/v1/ops/dispatch/assign", "post") == {200, 400, 401, 403, 409, 413}
    # Anonymous, throttled (refused while the counters are unreachable), locked after wrong passwords.
    assert statuses("/api/v1/auth/login", "post") == {200, 400, 401, 403, 413, 423, 429, 503}
    # The catalog needs no sign-in and reads no token (a stale one is no error there) and no body.
    assert statuses("/api/v1/merchants/{id}", "get") == {200, 404}
    # The gateway's webhook: its own signature, no sign-in.
    webhook = paths["/api/v1/payments/sandbox/webhook"]["post"]["responses"]
    assert statuses("/api/v1/payments/sandbox/webhook", "post") == {200, 400, 401, 404}
    assert "webhook_signature_invalid" in webhook["401"]["description"]
    # Placing an order: the idempotency key reused with another cart.
    assert "idempotency_key_reused" in paths["/api/v1/orders"]["post"]["responses"]["422"]["description"]


def _untyped_objects(node: Any, where: str) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" not in node and not node.get("additionalProperties"):
            yield where
        if node.get("additionalProperties") == {}:
            yield where
        for key, value in node.items():
            yield from _untyped_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _untyped_objects(value, f"{where}/{index}")


def test_no_object_in_the_schema_is_left_untyped(schema: dict[str, Any]) -> None:
    assert list(_untyped_objects(schema, "")) == []
