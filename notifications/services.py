"""Every write of the notifications app: notify (alone, or for what an outbox event calls for), deliver,
mark read, set preferences.

`notify` writes the inbox row and one pending delivery attempt per channel target in one transaction
and hands each attempt to its own Celery task after commit, so a slow or failing channel never holds
up another. `deliver` sends one attempt under its row lock and records the outcome, so a task that
runs twice sends once.
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
from django.utils import timezone

from drivers.notifications import offer_notices
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
        attempts: list[DeliveryAttempt] = []
        if wanted and preference.push:
            attempts += [
                DeliveryAttempt(notification=notification, channel=Channel.PUSH, target=token)
                for token in Device.objects.filter(user=user).values_list("token", flat=True)
            ]
        if wanted and preference.email and user.email:
            attempts.append(
                DeliveryAttempt(notification=notification, channel=Channel.EMAIL, target=user.email)
            )
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
    """One task per attempt on the `notifications` queue; what cannot be queued now the sweep picks up."""
    for attempt_id in attempt_ids:
        try:
            deliver_task.apply_async(args=(attempt_id,), retry=True, retry_policy={"max_retries": 1})
        except Exception:
            logger.warning(
                "notifications: could not queue attempt %s; the sweep will", attempt_id, exc_info=True
            )


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds, when the attempt should be tried again


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Backoff after the `attempts`-th failure: 2, 4, 8... seconds (capped), or the server's Retry-After."""
    delay = min(float(settings.NOTIFICATIONS_RETRY_MAX_SECONDS), 2.0**attempts)
    return max(delay, retry_after or 0.0)


def deliver(*, attempt_id: int) -> Outcome:
    """Send one pending attempt (under its row lock, so a duplicate task waits, then sees it done)."""
    with transaction.atomic():
        attempt = (
            DeliveryAttempt.objects.select_for_update(of=("self",))
            .select_related("notification", "notification__user")
            .get(pk=attempt_id)
        )
        if attempt.status != DeliveryStatus.PENDING:
            return Outcome(attempt.status)
        now = timezone.now()
        if attempt.next_attempt_at is not None and attempt.next_attempt_at > now:
            return Outcome(DeliveryStatus.PENDING, (attempt.next_attempt_at - now).total_seconds())
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


def prune_device_token(*, token: str) -> None:
    """FCM says the token is dead: forget the device, and its other pending pushes."""
    for device in Device.objects.filter(token=token):
        delete_device(device=device)
    DeliveryAttempt.objects.filter(channel=Channel.PUSH, target=token, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.DEAD_TOKEN, next_attempt_at=None
    )


def due_attempt_ids(*, limit: int = 500) -> list[int]:
    """Pending attempts whose retry time has come, or that were never queued (older than a minute)."""
    now = timezone.now()
    stale = now - timedelta(seconds=60)
    pending = DeliveryAttempt.objects.filter(status=DeliveryStatus.PENDING)
    due = pending.filter(next_attempt_at__lte=now) | pending.filter(
        next_attempt_at__isnull=True, created_at__lte=stale
    )
    return list(due.order_by("id").values_list("id", flat=True)[:limit])


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
