"""Order events notify the customer and the merchant's staff in their language; push and email go out
by preference, each channel on its own, retried with backoff; dead device tokens are pruned."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from loship.events.models import OutboxEvent
from notifications import services, subscribers, tasks
from notifications.models import Category, DeliveryAttempt, DeliveryStatus, Notification
from notifications.templates import local_time
from orders.models import Order
from orders.services import lifecycle
from tests.factories import DeviceFactory, UserFactory
from tests.notifications.servers import FakeFcm, Mailbox
from tests.orders.factories import Menu, make_menu, make_staff
from tests.realtime.conftest import order_placer
from users.models import Device, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(db: None) -> Menu:
    return make_menu()


@pytest.fixture
def place(menu: Menu) -> Callable[[Any], Order]:
    return order_placer(menu)


def run_order_events() -> None:
    """What the relay's notifications destination does for each `order.*` event."""
    for event in OutboxEvent.objects.filter(topic__startswith="order.").order_by("id"):
        subscribers.notify_of_order_event(event)


def test_customer_hears_each_step_in_their_own_language(place: Callable[[Any], Order]) -> None:
    lan = UserFactory(language="vi")
    john = UserFactory(language="en")
    driver = UserFactory(roles=["driver"])
    for customer in (lan, john):
        order = place(customer)
        lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
        lifecycle.assign_driver(order_id=order.pk, driver=driver)
        lifecycle.mark_picked_up(order_id=order.pk, driver=driver)
        lifecycle.mark_delivered(order_id=order.pk, driver=driver)
    run_order_events()

    kinds = list(Notification.objects.filter(user=lan).order_by("id").values_list("kind", flat=True))
    assert kinds == ["order.accepted", "order.driver_assigned", "order.picked_up", "order.delivered"]
    vi = Notification.objects.get(user=lan, kind="order.accepted")
    en = Notification.objects.get(user=john, kind="order.accepted")
    assert vi.title.startswith("Đơn ") and "đang chuẩn bị" in vi.body and vi.language == "vi"
    assert en.title.endswith("accepted") and "is preparing your food" in en.body and en.language == "en"
    assert en.data["order_id"] == Order.objects.get(customer=john).pk


def test_the_customer_is_told_the_promise_at_accept_assignment_and_pickup(
    place: Callable[[Any], Order],
) -> None:
    lan = UserFactory(language="vi")
    john = UserFactory(language="en")
    driver = UserFactory(roles=[Role.DRIVER])
    soon = timezone.now() + timedelta(minutes=20)
    sooner = timezone.now() + timedelta(minutes=8)
    promised = {}
    for customer in (lan, john):
        order = place(customer)
        promised[customer] = lifecycle.accept_order(
            order_id=order.pk, actor=None, prep_minutes=10
        ).promised_at
        lifecycle.assign_driver(order_id=order.pk, driver=driver, promised_at=soon)
        lifecycle.mark_picked_up(order_id=order.pk, driver=driver, promised_at=sooner)
    run_order_events()

    for customer, by in ((lan, "giao trước"), (john, "by")):
        said = dict(Notification.objects.filter(user=customer).values_list("kind", "body"))
        assert said["order.accepted"].endswith(f"{by} {local_time(promised[customer])}.")
        assert said["order.driver_assigned"].endswith(f"{by} {local_time(soon)}.")
        assert said["order.picked_up"].endswith(f"{by} {local_time(sooner)}.")


def test_replayed_event_notifies_once(place: Callable[[Any], Order]) -> None:
    customer = UserFactory()
    order = place(customer)
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    run_order_events()
    run_order_events()
    # A task queued before the relay wrote the rows itself still runs, and adds nothing.
    accepted = OutboxEvent.objects.get(topic="order.accepted")
    assert tasks.notify_order_event(str(accepted.event_id)) == 1
    assert Notification.objects.filter(user=customer).count() == 1


def test_merchant_staff_hear_new_orders_and_cancellations_they_did_not_make(
    place: Callable[[Any], Order], menu: Menu
) -> None:
    staff = make_staff(menu.merchant)
    customer = UserFactory()
    first, second = place(customer), place(customer)
    lifecycle.cancel_order(order_id=first.pk, actor=customer, by="customer")
    lifecycle.cancel_order(order_id=second.pk, actor=staff, by="merchant")
    run_order_events()
    staff_kinds = sorted(Notification.objects.filter(user=staff).values_list("kind", "data__order_id"))
    assert staff_kinds == sorted(
        [
            ("merchant.new_order", first.pk),
            ("merchant.new_order", second.pk),
            ("merchant.order_cancelled", first.pk),
        ]
    )
    new_order = Notification.objects.filter(user=staff, kind="merchant.new_order").first()
    assert new_order is not None and "103.000 đ" in new_order.body  # 85 000 of food + fees


def test_automatic_cancel_and_rejection_tell_the_customer_why(place: Callable[[Any], Order]) -> None:
    customer = UserFactory(language="en")
    timed_out, rejected = place(customer), place(customer)
    Order.objects.filter(pk=timed_out.pk).update(
        merchant_accept_deadline=timezone.now() - timedelta(seconds=1)
    )
    assert lifecycle.expire_unanswered_order(order_id=timed_out.pk)
    lifecycle.reject_order(order_id=rejected.pk, actor=None, reason="sold out")
    run_order_events()
    by_order = dict(Notification.objects.filter(user=customer).values_list("data__order_id", "kind"))
    assert by_order == {timed_out.pk: "order.cancelled_timeout", rejected.pk: "order.rejected"}
    assert "did not answer in time" in Notification.objects.get(kind="order.cancelled_timeout").body


def test_muted_marketing_is_not_sent_but_order_updates_still_are(place: Callable[[Any], Order]) -> None:
    customer = UserFactory(email="lan@example.com")
    DeviceFactory(user=customer)
    services.update_preferences(user=customer, marketing=False)
    promo = {"headline_vi": "Giảm 50%", "headline_en": "50% off", "text_vi": "Hôm nay", "text_en": "Today"}
    assert (
        services.notify(user=customer, kind="marketing.promotion", context=promo, category=Category.MARKETING)
        is None
    )
    order = place(customer)
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    run_order_events()
    notification = Notification.objects.get(user=customer)
    assert notification.kind == "order.accepted"
    assert sorted(notification.deliveries.values_list("channel", flat=True)) == ["email", "push"]


def test_order_updates_off_keeps_the_inbox_but_sends_nothing_else() -> None:
    customer = UserFactory(email="lan@example.com")
    DeviceFactory(user=customer)
    services.update_preferences(user=customer, order_updates=False)
    notification = services.notify(
        user=customer, kind="order.picked_up", context={"code": "LS1"}, data={"order_id": 1}
    )
    assert notification is not None and not notification.deliveries.exists()


def test_push_and_email_go_out_and_a_dead_token_is_pruned(fake_fcm: FakeFcm, mailbox: Mailbox) -> None:
    customer = UserFactory(email="john@example.com", language="en")
    live = DeviceFactory(user=customer, token="device-live")
    DeviceFactory(user=customer, token="dead-token")
    context = {"code": "LS42", "promised": "2026-01-05T12:30:00+07:00"}
    notification = services.notify(user=customer, kind="order.picked_up", context=context)
    assert notification is not None
    for attempt in notification.deliveries.all():
        tasks.deliver(attempt.pk)

    statuses = dict(notification.deliveries.values_list("target", "status"))
    assert statuses == {
        "device-live": DeliveryStatus.SENT,
        "dead-token": DeliveryStatus.DEAD_TOKEN,
        "john@example.com": DeliveryStatus.SENT,
    }
    assert list(Device.objects.filter(user=customer)) == [live]
    assert [m["token"] for m in fake_fcm.messages] == ["device-live"]
    assert fake_fcm.messages[0]["notification"]["title"] == "Your driver has your food"
    assert fake_fcm.messages[0]["data"]["notification_id"] == str(notification.pk)
    [(recipients, email)] = mailbox.messages
    assert recipients == ["john@example.com"] and email["Subject"] == "Your driver has your food"
    assert "Order LS42 is on its way to you, promised by 12:30." in email.get_payload(decode=True).decode()
    # A task delivered twice sends nothing twice.
    for attempt in notification.deliveries.all():
        tasks.deliver(attempt.pk)
    assert len(fake_fcm.messages) == 1 and len(mailbox.messages) == 1


def test_a_failing_push_backs_off_without_holding_up_email(
    fake_fcm: FakeFcm, mailbox: Mailbox, settings: Any
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    customer = UserFactory(email="lan@example.com")
    DeviceFactory(user=customer, token="flaky-1")
    DeviceFactory(user=customer, token="down-1")
    notification = services.notify(
        user=customer, kind="order.delivered", context={"code": "LS7", "merchant": "Phở"}
    )
    assert notification is not None
    push = {a.target: a for a in notification.deliveries.filter(channel="push")}
    email = notification.deliveries.get(channel="email")

    first = services.deliver(attempt_id=push["flaky-1"].pk)
    assert first.status == DeliveryStatus.PENDING and first.retry_in is not None and first.retry_in >= 1
    assert services.deliver(attempt_id=email.pk).status == DeliveryStatus.SENT
    assert len(mailbox.messages) == 1
    # Not before its time; then it goes.
    assert services.deliver(attempt_id=push["flaky-1"].pk).status == DeliveryStatus.PENDING
    assert fake_fcm.failures["flaky-1"] == 1
    assert services.send_due() == 0
    DeliveryAttempt.objects.filter(pk=push["flaky-1"].pk).update(next_attempt_at=timezone.now())
    assert services.send_due() == 1  # the sweep sends the retry that has come due
    assert DeliveryAttempt.objects.get(pk=push["flaky-1"].pk).status == DeliveryStatus.SENT
    # One that never recovers is given up after NOTIFICATIONS_MAX_ATTEMPTS.
    for _ in range(3):
        DeliveryAttempt.objects.filter(pk=push["down-1"].pk).update(next_attempt_at=timezone.now())
        outcome = services.deliver(attempt_id=push["down-1"].pk)
    assert outcome.status == DeliveryStatus.FAILED
    down = DeliveryAttempt.objects.get(pk=push["down-1"].pk)
    assert down.attempts == 3 and "503" in down.last_error


def test_push_without_configuration_is_skipped(settings: Any) -> None:
    settings.FCM_PROJECT_ID = ""
    customer = UserFactory()
    DeviceFactory(user=customer)
    notification = services.notify(user=customer, kind="order.picked_up", context={"code": "LS1"})
    assert notification is not None
    attempt = notification.deliveries.get()
    assert services.deliver(attempt_id=attempt.pk).status == DeliveryStatus.SKIPPED
