"""Who may use an order's chat, whether it takes messages now, and what it shows.

Only the order's customer and its current driver take part; for anyone else (another customer,
another or an earlier driver, ops on the API: they read threads in the admin) the order is not found.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from chat.errors import ChatErrors
from chat.models import ChatMessage, ChatRole, ChatThread
from loship.timefmt import iso, iso_or_none
from orders.models import Order, OrderStatus
from users.models import User


def role_in(order: Order, user: User) -> str | None:
    """The side `user` takes in the order's chat, or None when they take none."""
    if order.customer_id == user.pk:
        return ChatRole.CUSTOMER
    if order.driver_id is not None and order.driver_id == user.pk:
        return ChatRole.DRIVER
    return None


def participant_order(*, user: User, order_id: int, lock: bool = False) -> tuple[Order, str]:
    """The order and the caller's side of its chat (`lock`: the order row held against transitions
    until the caller's transaction ends); a 404 for anyone who takes no part."""
    orders = Order.objects.all()
    if lock:
        orders = orders.select_for_update(no_key=True, of=("self",))
    order = orders.filter(pk=order_id).first()
    role = role_in(order, user) if order is not None else None
    if order is None or role is None:
        raise Http404
    return order, role


def read_only_at(order: Order) -> datetime | None:
    """When the order's chat stops taking messages: CHAT_READ_ONLY_AFTER_SECONDS after delivery or
    after the order closed (cancelled, failed); None while the order runs."""
    ended_at = order.delivered_at if order.status == OrderStatus.DELIVERED else order.closed_at
    if not order.is_terminal or ended_at is None:
        return None
    return ended_at + timedelta(seconds=settings.CHAT_READ_ONLY_AFTER_SECONDS)


def refuse_unless_writable(order: Order, *, now: datetime) -> None:
    """A 409 unless the chat takes messages now: it opens when a driver is assigned and turns
    read-only `read_only_at`."""
    if order.driver_id is None:
        raise ChatErrors.NOT_OPEN()
    closes_at = read_only_at(order)
    if closes_at is not None and now >= closes_at:
        raise ChatErrors.READ_ONLY(extra={"read_only_at": iso(closes_at)})


def is_writable(order: Order, *, now: datetime) -> bool:
    closes_at = read_only_at(order)
    return order.driver_id is not None and (closes_at is None or now < closes_at)


def thread_of(order: Order) -> ChatThread:
    """The order's thread (unsaved and empty before its first message)."""
    return ChatThread.objects.filter(order=order).first() or ChatThread(order=order)


def messages_of(order: Order) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(thread_id=order.pk)


def other_role(role: str) -> str:
    return ChatRole.DRIVER if role == ChatRole.CUSTOMER else ChatRole.CUSTOMER


@dataclass(frozen=True)
class ChatView:
    """The chat as one side sees it."""

    order: Order
    role: str
    thread: ChatThread
    unread: int
    now: datetime

    def body(self) -> dict[str, Any]:
        other = other_role(self.role)
        return {
            "order_id": self.order.pk,
            "role": self.role,
            "open": is_writable(self.order, now=self.now),
            "read_only_at": iso_or_none(read_only_at(self.order)),
            "last_seq": self.thread.last_seq,
            "read_seq": self.thread.read_seq(self.role),
            "other_read_seq": self.thread.read_seq(other),
            "unread": self.unread,
        }


def chat_view(*, order: Order, role: str, now: datetime) -> ChatView:
    """The thread's state for `role`: its pointers and how many of the other side's messages are unread."""
    thread = thread_of(order)
    unread = (
        messages_of(order).filter(sender_role=other_role(role), seq__gt=thread.read_seq(role)).count()
        if thread.last_seq
        else 0
    )
    return ChatView(order=order, role=role, thread=thread, unread=unread, now=now)


def message_body(message: ChatMessage) -> dict[str, Any]:
    """A message as both sides, their sockets and the outbox see it: no sender id, name or phone."""
    return {
        "id": message.pk,
        "seq": message.seq,
        "sender_role": message.sender_role,
        "body": message.body,
        "masked": message.masked,
        "sent_at": iso(message.created_at),
    }
