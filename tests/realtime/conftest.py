"""Helpers for the live-stream tests: the real ASGI application (auth middleware and routes) over the
real Redis channel layer, driven by channels' WebsocketCommunicator."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from loship.asgi import application
from orders.models import Order
from tests.conftest import authenticated_client
from tests.orders.factories import Menu, cart_body, make_menu
from users.sockets import BEARER_SUBPROTOCOL_PREFIX

TIMEOUT = 5


def token_for(user: Any) -> str:
    return str(AccessToken.for_user(user))  # no database write: usable inside async tests


def communicator(
    path: str,
    *,
    user: Any = None,
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
) -> WebsocketCommunicator:
    """A client of the stream at `path`; `user` authenticates with the `bearer.<token>` subprotocol."""
    if user is not None:
        subprotocols = [*(subprotocols or []), f"{BEARER_SUBPROTOCOL_PREFIX}{token_for(user)}"]
    return WebsocketCommunicator(application, path, headers=headers or [], subprotocols=subprotocols)


async def open_stream(ws: WebsocketCommunicator) -> tuple[bool, Any]:
    """Connect; returns (accepted, first message or the close code)."""
    connected, _ = await ws.connect(timeout=TIMEOUT)
    assert connected
    message = await ws.receive_output(timeout=TIMEOUT)
    if message["type"] == "websocket.close":
        return False, message.get("code")
    return True, json.loads(message["text"])


def close_code(path: str, **kwargs: Any) -> int | None:
    """The close code a refused connection gets (None if it was accepted)."""

    async def attempt() -> int | None:
        ws = communicator(path, **kwargs)
        accepted, first = await open_stream(ws)
        await ws.disconnect()
        return None if accepted else first

    return async_to_sync(attempt)()


@pytest.fixture(autouse=True)
def fresh_channel_layer() -> Iterator[None]:
    """A new channel layer per test: channels_redis keeps one receive lock per layer, and a receive
    cancelled when a test's event loop ended leaves it locked and bound to that dead loop ("bound to a
    different event loop" in the next test's disconnect)."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def menu(transactional_db: None) -> Menu:
    return make_menu()


def order_placer(menu: Menu) -> Callable[[Any], Order]:
    """Places the standard cart at `menu`'s merchant through the API for a customer (cash, so the
    merchant sees it at once)."""
    keys = (f"placer-{n}" for n in range(1, 1_000_000))

    def place(customer: Any) -> Order:
        response = authenticated_client(customer).post(
            "/api/v1/orders", cart_body(menu), format="json", HTTP_IDEMPOTENCY_KEY=next(keys)
        )
        assert response.status_code == 201, response.json()
        return Order.objects.get(pk=response.json()["id"])

    return place


@pytest.fixture
def place_order(menu: Menu) -> Callable[[Any], Order]:
    return order_placer(menu)
