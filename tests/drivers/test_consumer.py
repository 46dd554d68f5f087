"""The driver stream /ws/driver/: refusals with 4401/4403, snapshot on connect, fixes up, events down."""

from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import RefreshToken

from drivers.routing import websocket_urlpatterns
from loship.push import driver_group, push
from tests.drivers.conftest import fix, make_driver
from tests.factories import UserFactory
from users.sockets import StreamAuthMiddleware

pytestmark = pytest.mark.django_db(transaction=True)

APP = StreamAuthMiddleware(URLRouter(websocket_urlpatterns))


def _path(user: Any | None) -> str:
    """The stream's path with the user's access token (minted here: it writes the token's row)."""
    if user is None:
        return "/ws/driver/"
    return f"/ws/driver/?token={RefreshToken.for_user(user).access_token}"


def _connect(user: Any | None) -> tuple[bool, Any]:
    path = _path(user)

    async def scenario() -> tuple[bool, Any]:
        result: tuple[bool, Any] = await WebsocketCommunicator(APP, path).connect()
        return result

    return async_to_sync(scenario)()


def test_without_a_token_the_socket_closes_with_4401() -> None:
    assert _connect(None) == (False, 4401)


def test_a_customer_is_refused_with_4403() -> None:
    assert _connect(UserFactory()) == (False, 4403)


def test_a_driver_gets_a_snapshot_sends_fixes_and_receives_pushed_events() -> None:
    driver = make_driver()
    path = _path(driver)

    async def scenario() -> dict[str, Any]:
        socket = WebsocketCommunicator(APP, path)
        connected, _ = await socket.connect()
        assert connected
        seen = {"snapshot": await socket.receive_json_from(timeout=5)}
        await socket.send_json_to({"type": "location", "fixes": [fix(10.78, 106.70), fix(95, 106.70)]})
        seen["ack"] = await socket.receive_json_from(timeout=5)
        await sync_to_async(push)(driver_group(driver.pk), {"type": "offer.created", "offer_id": 7})
        seen["pushed"] = await socket.receive_json_from(timeout=5)
        await socket.send_to(text_data="not json")
        seen["error"] = await socket.receive_json_from(timeout=5)
        await socket.disconnect()
        return seen

    seen = async_to_sync(scenario)()

    assert seen["snapshot"]["type"] == "snapshot"
    assert seen["snapshot"]["profile"]["user_id"] == driver.pk
    assert seen["snapshot"]["offers"] == [] and seen["snapshot"]["jobs"] == []
    assert seen["ack"] == {
        "type": "location.ack",
        "accepted": 1,
        "ignored": 0,
        "rejected": [{"index": 1, "code": "location_coordinates_invalid"}],
    }
    assert seen["pushed"] == {"type": "offer.created", "offer_id": 7}
    assert seen["error"] == {"type": "error", "code": "message_type_unknown"}


def test_each_location_message_gets_its_own_ack_and_a_repeated_fix_is_ignored() -> None:
    driver = make_driver()
    path = _path(driver)
    sent = fix(10.78, 106.70)

    async def scenario() -> list[Any]:
        socket = WebsocketCommunicator(APP, path)
        connected, _ = await socket.connect()
        assert connected
        await socket.receive_json_from(timeout=5)
        acks = []
        for message in ({"type": "location", "fixes": [sent]}, {"type": "location", "fixes": [sent]}):
            await socket.send_json_to(message)
            acks.append(await socket.receive_json_from(timeout=5))
        await socket.send_json_to({"type": "location", "fixes": []})
        acks.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return acks

    assert async_to_sync(scenario)() == [
        {"type": "location.ack", "accepted": 1, "ignored": 0, "rejected": []},
        {"type": "location.ack", "accepted": 0, "ignored": 1, "rejected": []},
        {"type": "error", "code": "location_batch_invalid"},
    ]
