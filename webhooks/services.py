"""Every write of the partner webhooks: register, change, remove an endpoint and roll its secret;
turn an outbox event into deliveries; send one; queue those due; redeliver; disable a failing endpoint.

From the relay to the partner. The relay calls `enqueue_event` as one of its destinations (so the
outbox's ordering and once-per-destination rules apply to it): it writes one delivery row per active
endpoint of the order's merchant that subscribed to the topic (once per endpoint and event, however
often the relay calls) and queues one Celery task per row after commit. The HTTP call happens in
that task, never in the relay, so a slow partner holds up nobody else.

Retries. A failed try is retried after an exponential backoff with jitter (`retry_delay`) until the
row's `give_up_at`, WEBHOOKS_RETRY_WINDOW_SECONDS after it was written, when it is marked failed. The
row is the durable copy: a task carries the number of tries it expects the row to have had, and
sends only if that still holds, so a doubled or late task never sends a try twice; `queue_due`,
which beat runs every WEBHOOKS_SWEEP_SECONDS, queues whatever is past `next_attempt_at` (a retry
that came due, a first try whose message Redis lost) and moves that deadline on by the grace period,
so a lost task is queued again then (retries, seconds or hours away, wait for the sweep rather than
for a Celery countdown). The sender holds the row's lock during its one POST.

Failing endpoints. Each try updates its endpoint's streak in its own short transaction after the
delivery's has committed (a sender never waits for the endpoint while holding a delivery). When an
endpoint has failed WEBHOOKS_DISABLE_AFTER_FAILURES tries in a row over at least
WEBHOOKS_DISABLE_AFTER_SECONDS without one success, it is disabled and the merchant's owners and
managers get a notification; its pending deliveries are cancelled as senders reach them, and may be
redelivered once it is enabled again.
"""

import json
import logging
import random
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from loship.celery import queue_best_effort
from loship.events.models import OutboxEvent
from loship.timefmt import iso
from merchants.models import MANAGING_ROLES, Merchant, StaffMembership
from notifications.services import notify
from orders.models import HIDDEN_FROM_MERCHANT
from webhooks import sealing, signing, transport
from webhooks.errors import WebhookErrors
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.targets import TargetRefused, check
from webhooks.tasks import deliver as deliver_task

logger = logging.getLogger(__name__)

#: The outcome of a delivery another sender holds right now (it records the real one).
IN_FLIGHT = "in_flight"
#: Fields of an order event's payload a partner does not get (the customer is not theirs to know).
PRIVATE_FIELDS = frozenset({"customer_id"})


def check_url(url: str) -> None:
    """Refuse a URL we would not send to (targets.py) with its stable error."""
    try:
        check(url)
    except TargetRefused as exc:
        raise WebhookErrors.BY_TARGET_CODE[exc.code](fields={"url": [str(exc)]}) from exc


def register_endpoint(
    *, merchant_id: int, url: str, events: list[str], description: str = "", created_by: Any = None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint for the merchant and its secret, which is never readable through the API again.
    At most WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT per merchant, counted under the merchant's row lock."""
    check_url(url)
    secret = sealing.new_secret()
    with transaction.atomic():
        Merchant.objects.select_for_update(of=("self",)).only("pk").get(pk=merchant_id)
        limit = settings.WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT
        if WebhookEndpoint.objects.filter(merchant_id=merchant_id).count() >= limit:
            raise WebhookErrors.TOO_MANY(limit=limit)
        endpoint = WebhookEndpoint.objects.create(
            merchant_id=merchant_id,
            url=url,
            events=sorted(set(events)),
            description=description,
            sealed_secret=sealing.seal(secret),
            created_by=created_by,
        )
    return endpoint, secret


def _lock_endpoint(endpoint_id: int) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update(of=("self",)).get(pk=endpoint_id)


def update_endpoint(
    *,
    endpoint_id: int,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change what was given; enabling an endpoint clears its failure streak and disabling reason."""
    if url is not None:
        check_url(url)
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        if url is not None:
            endpoint.url = url
        if events is not None:
            endpoint.events = sorted(set(events))
        if description is not None:
            endpoint.description = description
        if is_active is True and not endpoint.is_active:
            endpoint.is_active = True
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.consecutive_failures = 0
            endpoint.failing_since = None
        elif is_active is False and endpoint.is_active:
            endpoint.is_active = False
            endpoint.disabled_at = timezone.now()
            endpoint.disabled_reason = "disabled by hand"
        endpoint.save()
    return endpoint


def roll_secret(*, endpoint_id: int) -> tuple[WebhookEndpoint, str]:
    """A new secret for the endpoint (the old one stops signing at once), shown this once."""
    secret = sealing.new_secret()
    with transaction.atomic():
        endpoint = _lock_endpoint(endpoint_id)
        endpoint.sealed_secret = sealing.seal(secret)
        endpoint.save(update_fields=["sealed_secret", "updated_at"])
    return endpoint, secret


def delete_endpoint(*, endpoint_id: int) -> None:
    """Remove the endpoint and its delivery log."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).delete()


def event_body(event: OutboxEvent) -> str:
    """The JSON a partner receives for an order event (`id` to deduplicate, `sequence` to order)."""
    data = {key: value for key, value in event.payload.items() if key not in PRIVATE_FIELDS}
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.topic,
            "created_at": iso(event.created_at),
            "sequence": event.sequence,
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def enqueue_event(*, event: OutboxEvent) -> int:
    """The deliveries an order event calls for (the relay's destination); returns how many this call
    wrote. An e-wallet order not yet paid is not the merchant's business, so nothing is sent."""
    payload = event.payload
    if payload.get("payment_status") in HIDDEN_FROM_MERCHANT:
        return 0
    endpoints = set(
        WebhookEndpoint.objects.filter(
            merchant_id=payload["merchant_id"], is_active=True, events__contains=[event.topic]
        ).values_list("pk", flat=True)
    )
    # The relay delivered this event before (it was killed before recording that it had).
    endpoints -= set(
        WebhookDelivery.objects.filter(event_id=event.event_id).values_list("endpoint_id", flat=True)
    )
    if not endpoints:
        return 0
    now = timezone.now()
    body = event_body(event)
    with transaction.atomic():
        written = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=event.event_id,
                topic=event.topic,
                order_id=int(payload["order_id"]),
                sequence=event.sequence,
                body=body,
                next_attempt_at=now + timedelta(seconds=settings.WEBHOOKS_SEND_GRACE_SECONDS),
                give_up_at=now + timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS),
            )
            for endpoint_id in sorted(endpoints)
        )
        first_tries = [(delivery.pk, 0) for delivery in written]
        transaction.on_commit(lambda: _queue(first_tries), robust=True)
    return len(written)


def _queue(tries: list[tuple[int, int]]) -> None:
    """One task per (delivery, tries it has had); what cannot be queued `queue_due` queues later."""
    for delivery_id, attempts in tries:
        if not queue_best_effort(deliver_task, delivery_id, attempts):
            return


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after the `attempts`-th failure: BASE, 2xBASE, 4xBASE... capped at
    MAX, each drawn between half and all of it ("equal jitter"), so the retries of many deliveries
    that failed together (a partner's outage) spread out instead of arriving at once."""
    ceiling = min(
        float(settings.WEBHOOKS_RETRY_MAX_SECONDS),
        float(settings.WEBHOOKS_RETRY_BASE_SECONDS) * 2 ** max(attempts - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _claim() -> QuerySet[WebhookDelivery]:
    """Deliveries to lock for a send, skipping those another sender holds."""
    return WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True).select_related(
        "endpoint"
    )


def deliver(*, delivery_id: int, attempts_seen: int) -> str:
    """Try the delivery once, if it is still pending with `attempts_seen` tries behind it (a task
    queued for an earlier state does nothing); returns its status after, or IN_FLIGHT."""
    with transaction.atomic():
        delivery = _claim().filter(pk=delivery_id).first()
        if delivery is None:
            return IN_FLIGHT
        if delivery.status != DeliveryStatus.PENDING or delivery.attempts != attempts_seen:
            return delivery.status
        answer = _send_locked(delivery)
    if answer is not None:
        record_endpoint_health(endpoint_id=delivery.endpoint_id, ok=answer.ok, now=timezone.now())
    return delivery.status


def _send_locked(delivery: WebhookDelivery) -> transport.Answer | None:
    """POST a pending delivery the caller holds locked and record the answer; None when its endpoint
    is disabled (the delivery is cancelled, nothing is sent)."""
    endpoint = delivery.endpoint
    now = timezone.now()
    if not endpoint.is_active:
        delivery.status = DeliveryStatus.CANCELLED
        delivery.next_attempt_at = None
        delivery.last_error = "endpoint disabled"
        delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
        return None
    body = delivery.body.encode()
    try:
        secret = sealing.unseal(endpoint.sealed_secret)
    except InvalidToken:
        # None of WEBHOOKS_SECRET_KEYS opens it: a failed try like any other, until the keys are fixed.
        logger.error("webhooks: the secret of endpoint %s cannot be unsealed", endpoint.pk)
        return _record_answer(
            delivery, transport.Answer(None, 0, "the signing secret cannot be unsealed"), now
        )
    headers = {
        signing.HEADER: signing.sign(secret=secret, body=body),
        "Loship-Event-Id": str(delivery.event_id),
        "Loship-Event-Type": delivery.topic,
        "Loship-Delivery-Id": str(delivery.pk),
        "Loship-Delivery-Attempt": str(delivery.attempts + 1),
    }
    return _record_answer(delivery, transport.post(url=endpoint.url, body=body, headers=headers), now)


def _record_answer(delivery: WebhookDelivery, answer: transport.Answer, now: datetime) -> transport.Answer:
    """Save a try's outcome on the locked delivery: delivered, a retry time, or given up."""
    finished = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = answer.status_code
    delivery.latency_ms = answer.latency_ms
    delivery.last_error = answer.error
    if answer.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = finished
        delivery.next_attempt_at = None
    elif finished >= delivery.give_up_at:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        logger.warning("webhooks: gave up on delivery %s after %d tries", delivery.pk, delivery.attempts)
    else:
        retry_at = finished + timedelta(seconds=retry_delay(delivery.attempts))
        delivery.next_attempt_at = min(retry_at, delivery.give_up_at)  # one last try at the deadline
    delivery.save()
    return answer


def queue_due(*, limit: int = 500) -> int:
    """Queue a task for each pending delivery past its deadline (beat's sweep), and move the deadline
    on by WEBHOOKS_SEND_GRACE_SECONDS so the sweep queues it again only if that task is lost."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("pk", "attempts")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in due]).update(
            next_attempt_at=now + timedelta(seconds=settings.WEBHOOKS_SEND_GRACE_SECONDS)
        )
    _queue(due)
    return len(due)


def redeliver(*, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (an admin action, the API): pending at once, with a fresh retry window.
    A pending one is queued again as it stands; one whose endpoint is disabled is refused (409)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .get(pk=delivery_id)
        )
        if not delivery.endpoint.is_active:
            raise WebhookErrors.ENDPOINT_DISABLED()
        now = timezone.now()
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=settings.WEBHOOKS_SEND_GRACE_SECONDS)
        delivery.give_up_at = now + timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS)
        delivery.delivered_at = None
        delivery.save(update_fields=["status", "next_attempt_at", "give_up_at", "delivered_at"])
        tries = [(delivery.pk, delivery.attempts)]
        transaction.on_commit(lambda: _queue(tries), robust=True)
    return delivery


def record_endpoint_health(*, endpoint_id: int, ok: bool, now: datetime) -> WebhookEndpoint | None:
    """Count a try's outcome into the endpoint's streak; disable it (and tell the merchant) when the
    streak of failures is long and old enough. None when the endpoint is gone."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update(of=("self",)).filter(pk=endpoint_id).first()
        if endpoint is None:
            return None
        if ok:
            if endpoint.consecutive_failures:
                endpoint.consecutive_failures = 0
                endpoint.failing_since = None
                endpoint.save(update_fields=["consecutive_failures", "failing_since"])
            return endpoint
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        streak = now - endpoint.failing_since
        if (
            endpoint.is_active
            and endpoint.consecutive_failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES
            and streak >= timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS)
        ):
            endpoint.is_active = False
            endpoint.disabled_at = now
            endpoint.disabled_reason = f"{endpoint.consecutive_failures} failed deliveries in a row"
            _tell_merchant_disabled(endpoint)
            logger.warning("webhooks: disabled endpoint %s (%s)", endpoint.pk, endpoint.disabled_reason)
        endpoint.save()
    return endpoint


def _tell_merchant_disabled(endpoint: WebhookEndpoint) -> None:
    """An inbox notification (and push, email) to the merchant's owners and managers."""
    memberships = StaffMembership.objects.filter(
        merchant_id=endpoint.merchant_id, role__in=MANAGING_ROLES
    ).select_related("user")
    hours = round((timezone.now() - (endpoint.failing_since or timezone.now())).total_seconds() / 3600)
    for membership in memberships:
        notify(
            user=membership.user,
            kind="merchant.webhook_disabled",
            context={"url": endpoint.url, "failures": endpoint.consecutive_failures, "hours": hours},
            data={"merchant_id": endpoint.merchant_id, "webhook_id": endpoint.pk},
        )
