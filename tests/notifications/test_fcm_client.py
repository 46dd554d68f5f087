"""The FCM HTTP v1 client against a local server that checks the OAuth2 exchange and the messages."""

import pytest

from notifications import fcm
from tests.notifications.servers import FakeFcm


def message(token: str) -> fcm.PushMessage:
    return fcm.PushMessage(token=token, title="Đơn LS1 đã được nhận", body="Phở Test", data={"order_id": "7"})


def test_service_account_token_is_exchanged_once_and_reused(fake_fcm: FakeFcm) -> None:
    client = fcm.client_from_settings()
    assert client is not None
    first = client.send(message("device-a"))
    second = client.send(message("device-b"))
    assert first.startswith("projects/loship-test/messages/") and first != second
    assert len(fake_fcm.assertions) == 1  # one signed assertion, the token is cached
    sent = fake_fcm.messages[0]
    assert sent["token"] == "device-a"
    assert sent["notification"] == {"title": "Đơn LS1 đã được nhận", "body": "Phở Test"}
    assert sent["data"] == {"order_id": "7"}
    assert sent["android"] == {"priority": "high"}


def test_a_notification_push_collapses_on_its_id_so_a_repeated_send_shows_once(fake_fcm: FakeFcm) -> None:
    client = fcm.client_from_settings()
    assert client is not None
    push = fcm.PushMessage(token="device-a", title="t", body="b", data={"notification_id": "42"})
    client.send(push)
    client.send(push)
    first, again = fake_fcm.messages
    assert first["android"] == again["android"] == {"priority": "high", "collapse_key": "n42"}
    assert first["apns"]["headers"] == {"apns-priority": "10", "apns-collapse-id": "n42"}


def test_a_revoked_access_token_is_renewed_once(fake_fcm: FakeFcm) -> None:
    client = fcm.client_from_settings()
    assert client is not None
    client.send(message("device-a"))
    fake_fcm.revoke_next = True
    client.send(message("device-b"))
    assert fake_fcm.rejected_auth == 1 and len(fake_fcm.assertions) == 2
    assert [m["token"] for m in fake_fcm.messages] == ["device-a", "device-b"]


def test_unregistered_token_unavailable_and_unreachable_are_told_apart(fake_fcm: FakeFcm, settings) -> None:  # type: ignore[no-untyped-def]
    client = fcm.client_from_settings()
    assert client is not None
    with pytest.raises(fcm.UnregisteredToken):
        client.send(message("dead-1"))
    with pytest.raises(fcm.RetryableError) as unavailable:
        client.send(message("down-1"))
    assert unavailable.value.retry_after == 1.0
    settings.FCM_BASE_URL = "http://127.0.0.1:9"  # nothing listens on the discard port
    unreachable = fcm.client_from_settings()
    assert unreachable is not None
    with pytest.raises(fcm.RetryableError):
        unreachable.send(message("device-a"))


def test_static_access_token_is_sent_as_bearer(fake_fcm: FakeFcm, settings) -> None:  # type: ignore[no-untyped-def]
    client = fcm.client_from_settings()
    assert client is not None
    client.send(message("device-a"))  # the fake issues access-1
    settings.FCM_ACCESS_TOKEN = "access-1"
    static = fcm.client_from_settings()
    assert static is not None and isinstance(static.credentials, fcm.StaticToken)
    static.send(message("device-b"))
    assert len(fake_fcm.assertions) == 1 and len(fake_fcm.messages) == 2


def test_push_is_off_without_a_project(settings) -> None:  # type: ignore[no-untyped-def]
    settings.FCM_PROJECT_ID = ""
    assert fcm.client_from_settings() is None
