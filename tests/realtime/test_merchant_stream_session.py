"""The merchant stream takes the admin's session cookie (the incoming orders page), from an allowed
origin only, and still only for the merchant's staff and ops."""

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from orders.models import Order
from tests.factories import UserFactory
from tests.orders.factories import Menu, make_merchant, make_staff
from tests.realtime.conftest import close_code, communicator, open_stream
from users.models import Role

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"https://admin.loship.vn")


def session_cookie(user: Any) -> tuple[bytes, bytes]:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return (b"cookie", f"sessionid={session.session_key}".encode())


def test_the_merchant_stream_takes_the_admin_session_of_its_staff_from_an_allowed_origin(
    menu: Menu, place_order: Callable[[Any], Order], settings: Any
) -> None:
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://admin.loship.vn"]
    order = place_order(UserFactory())
    path = f"/ws/merchants/{menu.merchant.pk}/"
    staff = session_cookie(make_staff(menu.merchant))

    async def snapshot() -> Any:
        ws = communicator(path, headers=[staff, ORIGIN])
        accepted, first = await open_stream(ws)
        await ws.disconnect()
        return accepted, first

    accepted, first = async_to_sync(snapshot)()
    assert accepted and first["type"] == "merchant.snapshot"
    assert [row["order_id"] for row in first["orders"]] == [order.pk]

    assert (
        close_code(path, headers=[session_cookie(UserFactory(roles=[Role.OPS], is_staff=True)), ORIGIN])
        is None
    )
    assert close_code(path, headers=[session_cookie(make_staff(make_merchant())), ORIGIN]) == 4403
    assert close_code(path, headers=[staff, (b"origin", b"https://evil.example")]) == 4403
    assert close_code(path, headers=[staff]) == 4401  # a cookie without an origin
