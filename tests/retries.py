"""The retry rule's check: the same request sent again answers as the first did and writes nothing more."""

from collections.abc import Callable
from typing import Any

from django.apps import apps

PROJECT_APPS = (
    "events",
    "idempotency",
    "users",
    "merchants",
    "orders",
    "drivers",
    "notifications",
    "chat",
    "webhooks",
    "ops",
)


def row_counts() -> dict[str, int]:
    """How many rows every table of the project holds (a retry that writes adds or removes some)."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    }


def body(response: Any) -> Any:
    return response.json() if response.content else None


def sent_twice(send: Callable[[], Any], *, again_status: int = 200) -> tuple[Any, Any]:
    """Send a request, then the same request again; asserts the second answers `again_status` with the
    first one's body and adds or removes no row anywhere. Returns both responses."""
    first = send()
    assert first.status_code < 300, body(first)
    before = row_counts()
    again = send()
    assert again.status_code == again_status, body(again)
    assert body(again) == body(first)
    assert row_counts() == before
    return first, again
