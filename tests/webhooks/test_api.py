"""Merchant staff manage their own merchant's webhooks through the API (ops any merchant's): the secret
is shown once, private targets are refused, another merchant's endpoints do not exist for them."""

from collections.abc import Callable
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper
from rest_framework.test import APIClient

from orders.models import Order
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, make_menu
from tests.webhooks.conftest import staff_of, the_delivery
from tests.webhooks.receivers import Receiver
from users.models import Role
from webhooks import sealing, services
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.signing import sign, verify

pytestmark = pytest.mark.django_db

Register = Callable[..., tuple[WebhookEndpoint, str]]


def webhooks_of(merchant: Any) -> str:
    return f"/api/v1/merchant/merchants/{merchant.pk}/webhooks"


def endpoint_body(url: str = "https://hooks.example.com/loship") -> dict[str, Any]:
    return {"url": url, "events": ["order.placed"], "description": "POS"}


@pytest.mark.usefixtures("local_receivers")
def test_the_secret_is_shown_once_and_stored_sealed(
    manager_client: APIClient, menu: Menu, receiver: Receiver
) -> None:
    created = manager_client.post(
        webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json"
    )

    secret = created.json()["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
    listed = manager_client.get(webhooks_of(menu.merchant))
    detail = manager_client.get(f"/api/v1/merchant/webhooks/{endpoint.pk}")
    assert created.status_code == 201 and secret.startswith("whsec_") and len(secret) > 40
    assert "secret" not in listed.json()[0] and "secret" not in detail.json()
    assert secret not in str(listed.json()) + str(detail.json())
    assert secret not in endpoint.sealed_secret and sealing.unseal(endpoint.sealed_secret) == secret


@pytest.mark.usefixtures("local_receivers")
def test_a_retried_registration_makes_one_endpoint_and_does_not_show_the_secret_again(
    manager_client: APIClient, menu: Menu, receiver: Receiver
) -> None:
    def send() -> Any:
        return manager_client.post(
            webhooks_of(menu.merchant),
            endpoint_body(receiver.hook_url()),
            format="json",
            HTTP_IDEMPOTENCY_KEY="k1",
        )

    first, again = send(), send()

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["secret"] is None
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.usefixtures("local_receivers")
def test_rolling_the_secret_shows_the_new_one_once_and_signs_with_it(
    manager_client: APIClient, register: Register, receiver: Receiver
) -> None:
    endpoint, old = register(receiver.hook_url())

    rolled = manager_client.post(f"/api/v1/merchant/webhooks/{endpoint.pk}/roll-secret")

    new = rolled.json()["secret"]
    endpoint.refresh_from_db()
    assert rolled.status_code == 200 and new != old
    assert sealing.unseal(endpoint.sealed_secret) == new
    header = sign(secret=sealing.unseal(endpoint.sealed_secret), body=b"{}")
    assert verify(secret=new, header=header, body=b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "https://127.0.0.1:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(
    manager_client: APIClient, menu: Menu, settings: SettingsWrapper, url: str
) -> None:
    settings.WEBHOOKS_ALLOWED_NETWORKS = []

    refused = manager_client.post(webhooks_of(menu.merchant), endpoint_body(url), format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "webhook_target_refused"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://93.184.216.34/hook", "webhook_https_required"),
        ("ftp://93.184.216.34/hook", "webhook_url_invalid"),
        ("https://user:pw@93.184.216.34/hook", "webhook_url_invalid"),
        ("https://no-such-host.invalid/hook", "webhook_host_unresolvable"),
    ],
)
def test_other_unusable_urls_are_refused_with_their_code(
    manager_client: APIClient, menu: Menu, url: str, code: str
) -> None:
    refused = manager_client.post(webhooks_of(menu.merchant), endpoint_body(url), format="json")

    assert refused.status_code == 400 and refused.json()["error"]["code"] == code


def test_a_public_https_target_is_accepted(manager_client: APIClient, menu: Menu) -> None:
    created = manager_client.post(
        webhooks_of(menu.merchant), endpoint_body("https://93.184.216.34/hook"), format="json"
    )

    assert created.status_code == 201


def test_unknown_event_types_are_refused(manager_client: APIClient, menu: Menu) -> None:
    body = {**endpoint_body("https://93.184.216.34/hook"), "events": ["order.placed", "order.eaten"]}

    refused = manager_client.post(webhooks_of(menu.merchant), body, format="json")

    assert refused.status_code == 400 and "events" in refused.json()["error"]["fields"]


@pytest.mark.usefixtures("local_receivers")
def test_staff_of_one_merchant_cannot_see_or_touch_anothers_webhooks(
    manager_client: APIClient,
    menu: Menu,
    receiver: Receiver,
    place_order: Callable[[], Order],
    register: Register,
) -> None:
    other = make_menu().merchant
    theirs, _ = services.register_endpoint(
        merchant_id=other.pk, url=receiver.hook_url(), events=["order.placed"]
    )
    mine, _ = register(receiver.hook_url())
    place_order()
    their_delivery = WebhookDelivery.objects.create(
        endpoint=theirs,
        event_id=the_delivery(Order.objects.get()).event_id,
        topic="order.placed",
        order_id=1,
        body="{}",
        give_up_at=theirs.created_at,
    )

    answers = [
        manager_client.get(webhooks_of(other)),
        manager_client.post(webhooks_of(other), endpoint_body(receiver.hook_url()), format="json"),
        manager_client.get(f"/api/v1/merchant/webhooks/{theirs.pk}"),
        manager_client.patch(
            f"/api/v1/merchant/webhooks/{theirs.pk}", {"url": receiver.hook_url()}, format="json"
        ),
        manager_client.delete(f"/api/v1/merchant/webhooks/{theirs.pk}"),
        manager_client.post(f"/api/v1/merchant/webhooks/{theirs.pk}/roll-secret"),
        manager_client.get(f"/api/v1/merchant/webhooks/{theirs.pk}/deliveries"),
        manager_client.post(f"/api/v1/merchant/webhook-deliveries/{their_delivery.pk}/redeliver"),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert [endpoint["id"] for endpoint in manager_client.get(webhooks_of(menu.merchant)).json()] == [mine.pk]
    assert WebhookEndpoint.objects.filter(merchant=other).count() == 1
    theirs.refresh_from_db()
    assert theirs.url == receiver.hook_url() and theirs.is_active


@pytest.mark.usefixtures("local_receivers")
def test_plain_staff_may_look_but_only_an_owner_or_manager_registers(
    menu: Menu, register: Register, receiver: Receiver
) -> None:
    register(receiver.hook_url())
    staff = authenticated_client(staff_of(menu.merchant, role="staff"))

    listed = staff.get(webhooks_of(menu.merchant))
    refused = staff.post(webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json")

    assert listed.status_code == 200 and len(listed.json()) == 1
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "merchant_role_required"


@pytest.mark.usefixtures("local_receivers")
def test_ops_register_for_any_merchant_and_customers_for_none(
    menu: Menu, receiver: Receiver, customer_client: APIClient
) -> None:
    ops = authenticated_client(UserFactory(roles=[Role.OPS]))

    created = ops.post(webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json")
    refused = customer_client.post(
        webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json"
    )

    assert created.status_code == 201 and created.json()["merchant_id"] == menu.merchant.pk
    assert refused.status_code == 403


@pytest.mark.usefixtures("local_receivers")
def test_a_merchant_has_at_most_the_configured_number_of_endpoints(
    manager_client: APIClient, menu: Menu, receiver: Receiver, settings: SettingsWrapper
) -> None:
    settings.WEBHOOKS_MAX_ENDPOINTS_PER_MERCHANT = 2
    for _ in range(2):
        manager_client.post(webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json")

    refused = manager_client.post(
        webhooks_of(menu.merchant), endpoint_body(receiver.hook_url()), format="json"
    )

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "webhook_limit_reached"


@pytest.mark.usefixtures("local_receivers")
def test_the_delivery_log_and_redelivery(
    manager_client: APIClient, register: Register, receiver: Receiver, place_order: Callable[[], Order]
) -> None:
    endpoint, secret = register(receiver.hook_url())
    receiver.secret = secret
    delivery = the_delivery(place_order())
    services.deliver(delivery_id=delivery.pk, attempts_seen=0)

    log = manager_client.get(f"/api/v1/merchant/webhooks/{endpoint.pk}/deliveries").json()["results"]
    redelivered = manager_client.post(f"/api/v1/merchant/webhook-deliveries/{delivery.pk}/redeliver")
    services.deliver(delivery_id=delivery.pk, attempts_seen=1)

    assert [(row["id"], row["status"], row["response_code"], row["attempts"]) for row in log] == [
        (delivery.pk, "delivered", 200, 1)
    ]
    assert log[0]["latency_ms"] is not None
    assert redelivered.status_code == 200 and redelivered.json()["status"] == "pending"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [request.json["id"] for request in receiver.received] == [str(delivery.event_id)] * 2
    assert all(request.verified for request in receiver.received)


@pytest.mark.usefixtures("local_receivers")
def test_a_disabled_endpoint_is_enabled_again_before_a_redelivery(
    manager_client: APIClient, register: Register, receiver: Receiver, place_order: Callable[[], Order]
) -> None:
    endpoint, _ = register(receiver.hook_url())
    delivery = the_delivery(place_order())
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, consecutive_failures=30)

    refused = manager_client.post(f"/api/v1/merchant/webhook-deliveries/{delivery.pk}/redeliver")
    enabled = manager_client.patch(
        f"/api/v1/merchant/webhooks/{endpoint.pk}", {"is_active": True}, format="json"
    )
    redelivered = manager_client.post(f"/api/v1/merchant/webhook-deliveries/{delivery.pk}/redeliver")

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "webhook_disabled"
    assert enabled.json()["is_active"] and enabled.json()["consecutive_failures"] == 0
    assert redelivered.status_code == 200


@pytest.mark.usefixtures("local_receivers")
def test_removing_an_endpoint_stops_its_deliveries(
    manager_client: APIClient, register: Register, receiver: Receiver, place_order: Callable[[], Order]
) -> None:
    endpoint, _ = register(receiver.hook_url())

    removed = manager_client.delete(f"/api/v1/merchant/webhooks/{endpoint.pk}")
    place_order()

    assert removed.status_code == 204
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
