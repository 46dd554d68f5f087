"""Sends at once: real threads, each with its own PostgreSQL transaction."""

from collections import Counter
from typing import Any

import pytest

from chat.models import ChatMessage, ChatThread
from loship.events.models import OutboxEvent
from tests.chat.conftest import Chat, open_chat
from tests.concurrency import run_at_once
from tests.conftest import authenticated_client
from tests.orders.factories import make_menu

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat_tx(transactional_db: None) -> Chat:
    return open_chat(make_menu())


def test_messages_sent_at_once_by_both_sides_are_all_kept_numbered_without_gaps(chat_tx: Chat) -> None:
    chat = chat_tx
    senders = [chat.customer, chat.driver]
    clients = [authenticated_client(user) for user in senders]
    count = 12

    answers = run_at_once(
        count,
        lambda i: clients[i % 2].post(chat.url("/messages"), {"body": f"tin {i}"}, format="json"),
    )

    assert [answer.status_code for answer in answers] == [201] * count
    messages = list(ChatMessage.objects.filter(thread_id=chat.order.pk).order_by("seq"))
    assert [m.seq for m in messages] == list(range(1, count + 1))
    assert sorted(m.body for m in messages) == sorted(f"tin {i}" for i in range(count))
    assert sorted(answer.json()["seq"] for answer in answers) == list(range(1, count + 1))
    events = OutboxEvent.objects.filter(topic="chat.message").order_by("id")
    assert [e.sequence for e in events] == list(range(1, count + 1))  # the relay delivers in this order
    assert [e.payload["message"]["body"] for e in events] == [m.body for m in messages]
    assert ChatThread.objects.get(order=chat.order).last_seq == count


def test_a_burst_past_the_rate_limit_lets_exactly_the_limit_through(chat_tx: Chat, settings: Any) -> None:
    chat = chat_tx
    settings.CHAT_RATE_LIMIT_MESSAGES = 3
    client = authenticated_client(chat.driver)

    answers = run_at_once(
        8, lambda i: client.post(chat.url("/messages"), {"body": f"spam {i}"}, format="json")
    )

    assert Counter(answer.status_code for answer in answers) == {201: 3, 429: 5}
    assert ChatMessage.objects.count() == 3
    assert OutboxEvent.objects.filter(topic="chat.message").count() == 3


def test_receipts_sent_at_once_leave_the_furthest_one(chat_tx: Chat) -> None:
    chat = chat_tx
    for n in range(6):
        assert chat.send(chat.driver, f"tin {n}").status_code == 201
    client = authenticated_client(chat.customer)

    answers = run_at_once(6, lambda i: client.post(chat.url("/read"), {"seq": i + 1}, format="json"))

    assert [answer.status_code for answer in answers] == [200] * 6
    assert ChatThread.objects.get(order=chat.order).customer_read_seq == 6
    receipts = [e.payload["read_seq"] for e in OutboxEvent.objects.filter(topic="chat.read").order_by("id")]
    assert receipts == sorted(receipts) and receipts[-1] == 6
