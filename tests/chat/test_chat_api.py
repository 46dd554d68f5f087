"""The order chat over REST: who may use it, when it takes messages, what it refuses, what it shows."""

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chat.models import ChatMessage, ChatThread
from loship.events.models import OutboxEvent
from orders.models import Order
from orders.services import lifecycle
from tests.chat.conftest import Chat, make_driver
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.retries import sent_twice
from users.models import Role

pytestmark = pytest.mark.django_db


def chat_events(chat: Chat, topic: str = "chat.message") -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic=topic, aggregate_id=str(chat.order.pk)).order_by("id"))


def test_customer_and_driver_exchange_messages_numbered_in_order(chat: Chat) -> None:
    first = chat.send(chat.customer, "Anh ơi, em ở cổng sau nhé")
    second = chat.send(chat.driver, "Dạ, 5 phút nữa em tới")

    assert first.status_code == 201, first.json()
    assert second.status_code == 201, second.json()
    assert (first.json()["seq"], first.json()["sender_role"]) == (1, "customer")
    assert (second.json()["seq"], second.json()["sender_role"]) == (2, "driver")
    history = chat.history(chat.customer).json()["results"]
    assert [(m["seq"], m["body"]) for m in history] == [
        (2, "Dạ, 5 phút nữa em tới"),
        (1, "Anh ơi, em ở cổng sau nhé"),
    ]
    assert [event.sequence for event in chat_events(chat)] == [1, 2]


def test_history_comes_in_cursor_pages_newest_first(chat: Chat) -> None:
    for n in range(1, 6):
        assert chat.send(chat.customer if n % 2 else chat.driver, f"tin {n}").status_code == 201

    first = chat.history(chat.driver, page_size=2).json()
    second = authenticated_client(chat.driver).get(first["next"]).json()
    third = authenticated_client(chat.driver).get(second["next"]).json()

    pages = [[m["seq"] for m in page["results"]] for page in (first, second, third)]
    assert pages == [[5, 4], [3, 2], [1]]
    assert third["next"] is None
    assert chat.history(chat.driver, cursor="not-a-cursor").json()["error"]["code"] == "cursor_invalid"


@pytest.mark.parametrize("who", ["another customer", "another driver", "ops"])
def test_only_the_orders_customer_and_driver_may_use_its_chat(chat: Chat, who: str) -> None:
    chat.send(chat.customer, "xin chào")
    outsider = {
        "another customer": lambda: UserFactory(),
        "another driver": make_driver,
        "ops": lambda: UserFactory(roles=[Role.OPS]),
    }[who]()
    before = (ChatMessage.objects.count(), OutboxEvent.objects.count())

    answers = [
        chat.state(outsider),
        chat.history(outsider),
        chat.send(outsider, "cho tôi số điện thoại"),
        chat.read(outsider, 1),
    ]

    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [(404, "not_found")] * 4
    assert (ChatMessage.objects.count(), OutboxEvent.objects.count()) == before
    assert ChatThread.objects.get(order=chat.order).customer_read_seq == 1


def test_a_driver_who_lost_the_order_loses_its_chat_and_the_next_driver_gets_it(chat: Chat) -> None:
    chat.send(chat.driver, "em đang tới quán")
    lifecycle.unassign_driver(order_id=chat.order.pk, driver=chat.driver)

    assert chat.state(chat.driver).status_code == 404
    assert chat.send(chat.driver, "còn đó không?").status_code == 404
    refused = chat.send(chat.customer, "alo?")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "chat_not_open")

    successor = make_driver()
    lifecycle.assign_driver(order_id=chat.order.pk, driver=successor)
    assert chat.send(successor, "em nhận đơn rồi ạ").json()["seq"] == 2
    assert [m["seq"] for m in chat.history(successor).json()["results"]] == [2, 1]


def test_the_chat_opens_when_a_driver_is_assigned(chat_for: Callable[..., Chat]) -> None:
    chat = chat_for(assign=False)
    refused = chat.send(chat.customer, "có tài xế chưa?")
    state = chat.state(chat.customer).json()

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "chat_not_open")
    assert (state["open"], state["last_seq"]) == (False, 0)
    assert not ChatThread.objects.filter(order=chat.order).exists()

    lifecycle.assign_driver(order_id=chat.order.pk, driver=chat.driver)
    assert chat.state(chat.customer).json()["open"] is True
    assert chat.send(chat.customer, "có tài xế rồi").status_code == 201


def _ended(order: Order, *, minutes_ago: float) -> None:
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    Order.objects.filter(pk=order.pk).update(delivered_at=moment, closed_at=moment)


def test_the_chat_turns_read_only_an_hour_after_delivery(chat: Chat) -> None:
    lifecycle.mark_picked_up(order_id=chat.order.pk, driver=chat.driver)
    lifecycle.mark_delivered(order_id=chat.order.pk, driver=chat.driver)
    _ended(chat.order, minutes_ago=59)
    assert chat.send(chat.customer, "cảm ơn anh").status_code == 201

    _ended(chat.order, minutes_ago=61)
    refused = chat.send(chat.driver, "không có chi")
    state = chat.state(chat.customer).json()

    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "chat_read_only")
    assert "read_only_at" in refused.json()["error"]
    assert state["open"] is False and state["read_only_at"] is not None
    assert [m["body"] for m in chat.history(chat.driver).json()["results"]] == ["cảm ơn anh"]
    assert chat.read(chat.driver, 1).status_code == 200  # reading stays possible


def test_the_chat_turns_read_only_an_hour_after_cancellation(chat: Chat) -> None:
    lifecycle.cancel_order(order_id=chat.order.pk, actor=None, by="ops", reason="customer asked")
    assert chat.send(chat.driver, "đơn bị huỷ à?").status_code == 201

    _ended(chat.order, minutes_ago=60)
    assert chat.send(chat.customer, "vâng").json()["error"]["code"] == "chat_read_only"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "chat_message_empty"),
        ("   \n\t ", "chat_message_empty"),
        ("\x07\x1b\u200b", "chat_message_empty"),
        ("a" * 1001, "chat_message_too_long"),
    ],
)
def test_empty_and_over_long_messages_are_refused_with_nothing_written(
    chat: Chat, body: str, code: str
) -> None:
    before = (ChatMessage.objects.count(), OutboxEvent.objects.count(), ChatThread.objects.count())

    refused = chat.send(chat.customer, body)

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == code
    assert refused.json()["error"]["fields"]["body"][0]["code"] == code
    assert (ChatMessage.objects.count(), OutboxEvent.objects.count(), ChatThread.objects.count()) == before


def test_malformed_bodies_are_refused_in_the_error_shape(chat: Chat) -> None:
    client = authenticated_client(chat.customer)
    url = chat.url("/messages")
    answers = [
        client.post(url, {"body": ["a"]}, format="json"),
        client.post(url, {"body": "hi", "sender_role": "driver"}, format="json"),
        client.post(url, {}, format="json"),
        client.post(url, {"body": "nul\x00"}, format="json"),
        client.post(chat.url("/read"), {"seq": -1}, format="json"),
        client.post(chat.url("/read"), {"seq": "x"}, format="json"),
    ]
    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [(400, "invalid")] * 6
    assert ChatMessage.objects.count() == 0


def test_a_message_of_exactly_the_limit_is_kept_trimmed(chat: Chat) -> None:
    sent = chat.send(chat.customer, "  " + "á" * 1000 + "  \n")
    assert sent.status_code == 201
    assert sent.json()["body"] == "á" * 1000


def test_refusals_speak_the_callers_language(chat: Chat) -> None:
    client = authenticated_client(chat.customer)
    english = client.post(chat.url("/messages"), {"body": ""}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    vietnamese = client.post(chat.url("/messages"), {"body": ""}, format="json", HTTP_ACCEPT_LANGUAGE="vi")
    assert english.json()["error"]["message"] == "The message is empty."
    assert vietnamese.json()["error"]["message"] == "Tin nhắn trống."


def test_phone_numbers_are_masked_and_no_phone_appears_anywhere(chat: Chat) -> None:
    sent = chat.send(chat.customer, "Gọi em số 0912 345 678 hoặc +84.987.654.321 nhé, mã 4821")

    assert sent.json()["body"] == "Gọi em số **** *** *** hoặc +**.***.***.*** nhé, mã 4821"
    assert sent.json()["masked"] is True
    assert ChatMessage.objects.get().body == sent.json()["body"]
    chat.send(chat.driver, "Dạ")
    shown = json.dumps(
        [
            sent.json(),
            chat.history(chat.driver).json(),
            chat.state(chat.driver).json(),
            [event.payload for event in OutboxEvent.objects.filter(topic__startswith="chat.")],
        ],
        ensure_ascii=False,
    )
    # The numbers as written (with their separators: a bare "987" may be a timestamp's microseconds).
    for phone in (chat.customer.phone, chat.driver.phone, chat.order.customer_phone, "0912 345", "987.654"):
        assert phone not in shown
    for digits in (chat.customer.phone[-9:], chat.driver.phone[-9:]):
        assert digits not in shown
    assert "sender_id" not in shown and "phone" not in shown


def test_a_sender_past_the_rate_limit_is_refused_until_the_window_passes(
    chat: Chat, settings: object
) -> None:
    settings.CHAT_RATE_LIMIT_MESSAGES = 3  # type: ignore[attr-defined]
    for n in range(3):
        assert chat.send(chat.customer, f"tin {n}").status_code == 201
    before = (ChatMessage.objects.count(), OutboxEvent.objects.count())

    refused = chat.send(chat.customer, "tin nữa")

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "chat_rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["error"]["retry_after"] == int(refused["Retry-After"])
    assert (ChatMessage.objects.count(), OutboxEvent.objects.count()) == before
    assert chat.send(chat.driver, "bên kia vẫn gửi được").status_code == 201

    ChatMessage.objects.filter(sender=chat.customer).update(created_at=timezone.now() - timedelta(seconds=61))
    assert chat.send(chat.customer, "hết giới hạn").status_code == 201


def test_sending_counts_as_having_read_what_came_before(chat: Chat) -> None:
    chat.send(chat.driver, "em tới rồi")
    chat.send(chat.customer, "dạ em ra liền")

    assert chat.state(chat.customer).json()["unread"] == 0
    assert chat.state(chat.driver).json()["other_read_seq"] == 2


def test_read_receipts_move_forward_and_show_to_the_sender(chat: Chat) -> None:
    chat.send(chat.driver, "em tới rồi")
    chat.send(chat.driver, "em ở cổng")
    assert chat.state(chat.customer).json()["unread"] == 2
    assert [m["read"] for m in chat.history(chat.driver).json()["results"]] == [False, False]

    read = chat.read(chat.customer, 2)

    assert read.status_code == 200
    assert (read.json()["read_seq"], read.json()["unread"]) == (2, 0)
    driver_view = chat.state(chat.driver).json()
    assert (driver_view["other_read_seq"], driver_view["read_seq"]) == (2, 2)
    assert [m["read"] for m in chat.history(chat.driver).json()["results"]] == [True, True]
    [receipt] = chat_events(chat, "chat.read")
    assert receipt.payload["reader_role"] == "customer" and receipt.payload["read_seq"] == 2

    assert chat.read(chat.customer, 1).json()["read_seq"] == 2  # never backwards, nothing written
    assert len(chat_events(chat, "chat.read")) == 1
    beyond = chat.read(chat.customer, 3)
    assert (beyond.status_code, beyond.json()["error"]["code"]) == (400, "chat_read_seq_invalid")


def test_a_send_retried_with_its_idempotency_key_answers_the_first_message(chat: Chat) -> None:
    first, again = sent_twice(lambda: chat.send(chat.customer, "một lần thôi", HTTP_IDEMPOTENCY_KEY="k-1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert ChatMessage.objects.count() == 1


def test_history_and_state_take_a_fixed_number_of_queries(chat: Chat, django_assert_num_queries: Any) -> None:
    for n in range(12):
        chat.send(chat.driver, f"tin {n}")
    client = authenticated_client(chat.customer)
    client.get(chat.url())  # the signed-in user is cached from here on

    with django_assert_num_queries(3):  # the order, the thread, the page
        assert len(client.get(chat.url("/messages")).json()["results"]) == 12
    with django_assert_num_queries(3):  # the order, the thread, the unread count
        assert client.get(chat.url()).json()["unread"] == 12
