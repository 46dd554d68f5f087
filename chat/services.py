"""Every write of the order chat: send a message, mark messages read.

A send holds, in this order: the sender's advisory lock (their rate limit is counted exactly however
many sends they start at once), the order row (no transition slips between the check that the sender
takes part and the message), then the thread row (the next `seq`). A read receipt holds only the thread
row. The fixed order rules out deadlocks. The message or receipt, the thread's pointers and the outbox
event are written in one transaction; every refusal comes before the first write.
"""

import math
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from chat.errors import ChatErrors
from chat.masking import mask_phone_numbers
from chat.models import ChatMessage, ChatRole, ChatThread
from chat.selectors import message_body, participant_order, refuse_unless_writable
from loship.errors import ApplicationError, ErrorSpec
from loship.events.services import record_event
from loship.timefmt import iso
from orders.models import Order
from users.models import User

MESSAGE_TOPIC = "chat.message"
READ_TOPIC = "chat.read"
AGGREGATE = "chat"
#: First key of the chat's advisory locks (the second is the sender's id).
SENDER_LOCK_SPACE = 0x0C4A


def clean_text(body: str) -> str:
    """The message as it will be kept: control characters other than line breaks and tabs removed,
    surrounding blanks trimmed; empty or over CHAT_MAX_LENGTH is a 400."""
    text = "".join(
        char for char in body if char in "\n\t" or not unicodedata.category(char).startswith("C")
    ).strip()
    if not text:
        raise _body_refused(ChatErrors.MESSAGE_EMPTY)
    if len(text) > settings.CHAT_MAX_LENGTH:
        raise _body_refused(ChatErrors.MESSAGE_TOO_LONG, max_length=settings.CHAT_MAX_LENGTH)
    return text


def _body_refused(spec: ErrorSpec, **params: Any) -> ApplicationError:
    """`spec`'s error, also named against the `body` field."""
    error = spec(**params)
    return spec(fields={"body": [{"code": error.code, "message": error.message}]}, **params)


def _hold_sender(sender: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SENDER_LOCK_SPACE, sender.pk])


def _refuse_if_too_fast(sender: User, *, now: datetime) -> None:
    """A 429 with Retry-After once the sender has CHAT_RATE_LIMIT_MESSAGES messages in the last
    CHAT_RATE_LIMIT_SECONDS (the caller holds the sender's lock, so the count is exact)."""
    window = timedelta(seconds=settings.CHAT_RATE_LIMIT_SECONDS)
    limit = settings.CHAT_RATE_LIMIT_MESSAGES
    recent = list(
        ChatMessage.objects.filter(sender=sender, created_at__gt=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        retry_after = max(1, math.ceil((recent[-1] + window - now).total_seconds()))
        raise ChatErrors.RATE_LIMITED(extra={"retry_after": retry_after}, retry_after=retry_after)


def _locked_thread(order: Order) -> ChatThread:
    """The order's thread, created on first use, locked for the caller's transaction."""
    ChatThread.objects.bulk_create([ChatThread(order=order)], ignore_conflicts=True)
    return ChatThread.objects.select_for_update().get(order=order)


@transaction.atomic
def send_message(*, order_id: int, sender: User, body: str) -> ChatMessage:
    """Append `body` (phone numbers masked) to the order's chat as the next message, once the sender
    takes part, the chat is open and the sender is within the rate limit; the message is announced
    (`chat.message`) to the order's stream, the driver's socket and, when away, the other side's phone."""
    text = clean_text(body)
    _hold_sender(sender)
    order, role = participant_order(user=sender, order_id=order_id, lock=True)
    now = timezone.now()
    refuse_unless_writable(order, now=now)
    _refuse_if_too_fast(sender, now=now)
    thread = _locked_thread(order)
    thread.last_seq += 1
    if role == ChatRole.CUSTOMER:  # one's own messages are read
        thread.customer_read_seq, thread.customer_read_at = thread.last_seq, now
    else:
        thread.driver_read_seq, thread.driver_read_at = thread.last_seq, now
    shown, masked = mask_phone_numbers(text)
    message = ChatMessage.objects.create(
        thread=thread, seq=thread.last_seq, sender=sender, sender_role=role, body=shown, masked=masked
    )
    thread.save()
    record_event(
        topic=MESSAGE_TOPIC,
        aggregate_type=AGGREGATE,
        aggregate_id=order.pk,
        sequence=message.seq,
        payload={"order_id": order.pk, "message": message_body(message)},
    )
    return message


@transaction.atomic
def mark_read(*, order_id: int, reader: User, seq: int) -> ChatThread:
    """The reader has read every message up to `seq` (the other side hears of it: `chat.read`). A
    receipt at or below what they already read changes nothing; beyond the last message is a 400."""
    order, role = participant_order(user=reader, order_id=order_id)
    if seq < 0:
        raise ChatErrors.READ_SEQ_INVALID(seq=seq)
    thread = ChatThread.objects.select_for_update().filter(order=order).first()
    if thread is None:
        if seq > 0:
            raise ChatErrors.READ_SEQ_INVALID(seq=seq)
        return ChatThread(order=order)
    if seq > thread.last_seq:
        raise ChatErrors.READ_SEQ_INVALID(seq=seq)
    if seq <= thread.read_seq(role):
        return thread
    now = timezone.now()
    if role == ChatRole.CUSTOMER:
        thread.customer_read_seq, thread.customer_read_at = seq, now
    else:
        thread.driver_read_seq, thread.driver_read_at = seq, now
    thread.save()
    record_event(
        topic=READ_TOPIC,
        aggregate_type=AGGREGATE,
        aggregate_id=order.pk,
        sequence=thread.last_seq,
        payload={"order_id": order.pk, "reader_role": role, "read_seq": seq, "read_at": iso(now)},
    )
    return thread
