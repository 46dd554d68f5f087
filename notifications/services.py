"""Every write of the notifications app: notify (alone, or for what an outbox event calls for), deliver,
mark read, set preferences.

`notify` writes the inbox row and one pending delivery attempt per channel target in one transaction
and hands each attempt to its own Celery task after commit, so a slow or failing channel never holds
up another. `deliver` sends one attempt under its row lock and records the outcome, so a task that
runs twice sends once.

The attempt row, not the Celery message, is the durable copy of a send: it is written with a deadline
(`next_attempt_at`, NOTIFICATIONS_SEND_GRACE_SECONDS on), and `send_due`, which beat runs every
NOTIFICATIONS_SWEEP_SECONDS, sends every pending attempt past its deadline: a first try whose message
was lost (Redis restarted, or down when it was queued) or whose worker was killed mid-send, and every
retry that has come due. Senders claim an attempt with SKIP LOCKED, so two sweeps, or a sweep and a
task, never send it at once; a sender killed mid-send leaves it pending, and it is sent again (at
least once, as FCM and SMTP allow).
"""

import logging
import smtplib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from drivers.notifications import offer_notices
from loship.celery import queue_best_effort
from loship.events.models import OutboxEvent
from loship.metrics import NOTIFICATIONS_SENT
from notifications import fcm
from notifications.models import (
    Category,
    Channel,
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationPreference,
)
from notifications.tasks import deliver as deliver_task
from notifications.templates import render
from orders.notifications import Notice, order_notices
from users.models import Device, User
from users.services import delete_device

logger = logging.getLogger(__name__)


def preferences_for(user: User) -> NotificationPreference:
    """The user's preferences (defaults, unsaved, when they never changed any)."""
    try:
        return NotificationPreference.objects.get(user=user)
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


@transaction.atomic
def update_preferences(*, user: User, **changes: bool) -> NotificationPreference:
    """Set some of the user's preference flags (the row is created on first change)."""
    preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    for name, value in changes.items():
        setattr(preference, name, value)
    preference.save()
    return preference


def notify(
    *,
    user: User,
    kind: str,
    context: dict[str, Any],
    data: dict[str, Any] | None = None,
    category: str = Category.ORDER_UPDATES,
    source_event_id: uuid.UUID | str | None = None,
) -> Notification | None:
    """Tell `user` about something: an inbox row in their language, plus push to each of their devices
    and email when their preferences allow. Once per (user, source event, kind); None when muted."""
    preference = preferences_for(user)
    if category == Category.MARKETING and not preference.marketing:
        NOTIFICATIONS_SENT.labels(channel="inbox", outcome="muted").inc()
        return None
    title, body = render(kind, language=user.language, context=context)
    fields: dict[str, Any] = {
        "category": category,
        "language": user.language,
        "title": title,
        "body": body,
        "data": {"kind": kind, **(data or {})},
    }
    with transaction.atomic():
        if source_event_id is None:
            notification = Notification.objects.create(user=user, kind=kind, **fields)
        else:
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(
                        user=user, kind=kind, source_event_id=source_event_id, **fields
                    )
            except IntegrityError:
                # This event already notified this user (the relay delivered it twice).
                return Notification.objects.get(user=user, kind=kind, source_event_id=source_event_id)
        NOTIFICATIONS_SENT.labels(channel="inbox", outcome="sent").inc()
        wanted = preference.order_updates if category == Category.ORDER_UPDATES else preference.marketing
        targets: list[tuple[str, str]] = []
        if wanted and preference.push:
            tokens = Device.objects.filter(user=user).values_list("token", flat=True)
            targets += [(Channel.PUSH, token) for token in tokens]
        if wanted and preference.email and user.email:
            targets.append((Channel.EMAIL, user.email))
        swept_from = timezone.now() + timedelta(seconds=settings.NOTIFICATIONS_SEND_GRACE_SECONDS)
        attempts = [
            DeliveryAttempt(
                notification=notification, channel=channel, target=target, next_attempt_at=swept_from
            )
            for channel, target in targets
        ]
        DeliveryAttempt.objects.bulk_create(attempts)
        attempt_ids = [attempt.pk for attempt in attempts]
        if attempt_ids:
            transaction.on_commit(lambda: schedule_deliveries(attempt_ids), robust=True)
    return notification


def notify_all(*, notices: Iterable[Notice], source_event_id: uuid.UUID | str) -> int:
    """`notify` each notice an outbox event calls for, once per event however often this runs;
    returns how many notifications the event has (muted ones aside)."""
    return sum(
        notify(
            user=notice.user,
            kind=notice.kind,
            context=notice.context,
            data=notice.data,
            source_event_id=source_event_id,
        )
        is not None
        for notice in notices
    )


def notify_order_event(*, event: OutboxEvent) -> int:
    """The notifications an `order.*` event calls for (the rules are orders/notifications.py)."""
    return notify_all(notices=order_notices(event), source_event_id=event.event_id)


def notify_offer(*, event: OutboxEvent) -> int:
    """The notification an `offer.created` event calls for (the rules are drivers/notifications.py)."""
    return notify_all(notices=offer_notices(event), source_event_id=event.event_id)


def schedule_deliveries(attempt_ids: list[int]) -> None:
    """One task per attempt on the `notifications` queue, to send it at once; what cannot be queued
    (the broker is down) the sweep sends after its deadline."""
    for attempt_id in attempt_ids:
        if not queue_best_effort(deliver_task, attempt_id):
            return


#: The outcome of an attempt another sender holds right now (it records the real one).
IN_FLIGHT = "in_flight"


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds, when the attempt should be tried again


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Backoff after the `attempts`-th failure: 2, 4, 8... seconds (capped), or the server's Retry-After."""
    delay = min(float(settings.NOTIFICATIONS_RETRY_MAX_SECONDS), 2.0**attempts)
    return max(delay, retry_after or 0.0)


def _claim() -> QuerySet[DeliveryAttempt]:
    """Attempts to lock for a send, skipping those another sender holds."""
    return DeliveryAttempt.objects.select_for_update(of=("self",), skip_locked=True).select_related(
        "notification", "notification__user"
    )


def deliver(*, attempt_id: int) -> Outcome:
    """Send one attempt: a first try at once, a retry once its time has come; nothing when it is
    settled or another sender holds it (IN_FLIGHT)."""
    with transaction.atomic():
        attempt = _claim().filter(pk=attempt_id).first()
        if attempt is None:
            return Outcome(IN_FLIGHT)
        if attempt.status != DeliveryStatus.PENDING:
            return Outcome(attempt.status)
        now = timezone.now()
        if attempt.attempts and attempt.next_attempt_at is not None and attempt.next_attempt_at > now:
            return Outcome(DeliveryStatus.PENDING, (attempt.next_attempt_at - now).total_seconds())
        return _send_locked(attempt)


def send_due(*, limit: int = 500) -> int:
    """Send pending attempts whose deadline has passed, oldest first, each claimed in its own short
    transaction (SKIP LOCKED); returns how many were tried."""
    tried = 0
    while tried < limit:
        with transaction.atomic():
            due = _claim().filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
            attempt = due.order_by("next_attempt_at", "id").first()
            if attempt is None:
                break
            _send_locked(attempt)
        tried += 1
    return tried


def _send_locked(attempt: DeliveryAttempt) -> Outcome:
    """Send a pending attempt the caller holds locked and record what came of it."""
    attempt.attempts += 1
    outcome = _send(attempt)
    attempt.status = outcome.status
    if outcome.status == DeliveryStatus.PENDING:
        if attempt.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            attempt.status = DeliveryStatus.FAILED
            outcome = Outcome(DeliveryStatus.FAILED)
        else:
            attempt.next_attempt_at = timezone.now() + timedelta(seconds=outcome.retry_in or 0)
    if attempt.status == DeliveryStatus.SENT:
        attempt.sent_at = timezone.now()
    if attempt.status != DeliveryStatus.PENDING:
        attempt.next_attempt_at = None
        NOTIFICATIONS_SENT.labels(channel=attempt.channel, outcome=attempt.status).inc()
    attempt.save()
    return outcome


def _send(attempt: DeliveryAttempt) -> Outcome:
    """Talk to the provider; record the error text on the attempt; never raises."""
    notification = attempt.notification
    try:
        if attempt.channel == Channel.PUSH:
            client = fcm.client_from_settings()
            if client is None:
                return Outcome(DeliveryStatus.SKIPPED)
            data = {key: str(value) for key, value in notification.data.items()}
            data["notification_id"] = str(notification.pk)
            attempt.provider_ref = client.send(
                fcm.PushMessage(
                    token=attempt.target, title=notification.title, body=notification.body, data=data
                )
            )
        else:
            EmailMessage(
                subject=notification.title,
                body=f"{notification.body}\n\n-- Loship",
                to=[attempt.target],
                headers={"X-Loship-Notification": str(notification.pk)},
            ).send()
        return Outcome(DeliveryStatus.SENT)
    except fcm.UnregisteredToken as exc:
        attempt.last_error = str(exc)
        prune_device_token(token=attempt.target)
        return Outcome(DeliveryStatus.DEAD_TOKEN)
    except fcm.RetryableError as exc:
        attempt.last_error = str(exc)
        return Outcome(DeliveryStatus.PENDING, retry_delay(attempt.attempts, exc.retry_after))
    except fcm.PermanentError as exc:
        attempt.last_error = str(exc)
        return Outcome(DeliveryStatus.FAILED)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        attempt.last_error = repr(exc)[:1000]
        return Outcome(DeliveryStatus.FAILED)
    except (OSError, smtplib.SMTPException) as exc:
        attempt.last_error = repr(exc)[:1000]
        return Outcome(DeliveryStatus.PENDING, retry_delay(attempt.attempts))
    except Exception as exc:
        # Unforeseen (a broken credentials file, say): retried and given up like any other failure,
        # so one attempt never blocks the sweep behind it.
        logger.exception("notifications: attempt %s failed unexpectedly", attempt.pk)
        attempt.last_error = repr(exc)[:1000]
        return Outcome(DeliveryStatus.PENDING, retry_delay(attempt.attempts))


def prune_device_token(*, token: str) -> None:
    """FCM says the token is dead: forget the device, and its other pending pushes."""
    for device in Device.objects.filter(token=token):
        delete_device(device=device)
    DeliveryAttempt.objects.filter(channel=Channel.PUSH, target=token, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DEAD_TOKEN, next_attempt_at=None
    )


@transaction.atomic
def mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (idempotent); another user's is DoesNotExist (404)."""
    notification = Notification.objects.select_for_update().get(pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
