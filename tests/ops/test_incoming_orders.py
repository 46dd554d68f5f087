"""The merchant's incoming orders page: today's orders of the right merchant, and accept, reject and
ready answered exactly as the tablet answers them (state, history, outbox, errors, permissions)."""

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from loship.events.models import OutboxEvent
from merchants.models import StaffMembership
from orders.models import Order, OrderEvent, OrderStatus, PaymentStatus
from orders.services import lifecycle
from tests.concurrency import race
from tests.factories import UserFactory
from tests.ops.factories import make_order
from tests.orders.conftest import client_for
from tests.orders.factories import Menu, make_merchant, make_staff
from users.models import Role

pytestmark = pytest.mark.django_db

PAGE = "/admin/ops/merchant/orders/"
ROWS = "/admin/ops/merchant/orders/rows"
ANSWERS = {"accept": {"prep_minutes": 12}, "reject": {"reason": "hết món"}, "ready": {}}


class PageSession:
    """A signed-in admin browser: the page's CSRF token, then JSON POSTs as the page's script sends."""

    def __init__(self, user: Any, merchant_id: int) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        page = self.client.get(PAGE, {"merchant": merchant_id})
        assert page.status_code == 200
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        assert found is not None
        self.token = found.group(1)

    def answer(self, order_id: int, action: str, body: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.post(
            f"/admin/ops/merchant/orders/{order_id}/{action}",
            data=json.dumps(ANSWERS[action] if body is None else body),
            content_type="application/json",
            **{"HTTP_X_CSRFTOKEN": self.token, **extra},
        )


def tablet(user: Any, order_id: int, action: str, body: dict[str, Any] | None = None) -> Any:
    return client_for(user).post(
        f"/api/v1/merchant/orders/{order_id}/{action}",
        ANSWERS[action] if body is None else body,
        format="json",
    )


def listed_ids(client: Client, merchant_id: int) -> list[int]:
    html = client.get(ROWS, {"merchant": merchant_id}).content.decode()
    return [int(found) for found in re.findall(r'data-order-id="(\d+)"', html)]


def test_the_page_lists_todays_orders_of_the_merchant_only() -> None:
    merchant, other = make_merchant(), make_merchant()
    staff = make_staff(merchant)
    now = timezone.now()
    today = make_order(merchant, created_at=now)
    due_today = make_order(
        merchant, created_at=now - timedelta(days=1), status=OrderStatus.PLACED, scheduled_for=now
    )
    make_order(merchant, created_at=now - timedelta(days=1), status=OrderStatus.DELIVERED)
    make_order(merchant, created_at=now, payment_status=PaymentStatus.PENDING)  # unpaid e-wallet
    theirs = make_order(other, created_at=now)

    client = Client()
    client.force_login(staff)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert sorted(int(i) for i in re.findall(r'data-order-id="(\d+)"', html)) == sorted(
        [today.pk, due_today.pk]
    )
    assert today.code in html and theirs.code not in html
    assert 'data-action="accept"' in html
    assert listed_ids(client, merchant.pk) == [today.pk, due_today.pk]  # newest placed first
    assert client.get(PAGE, {"merchant": other.pk}).status_code == 404
    assert client.get(ROWS, {"merchant": other.pk}).status_code == 404

    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    client.force_login(ops)
    watched = client.get(PAGE, {"merchant": other.pk}).content.decode()
    assert theirs.code in watched and today.code not in watched
    # Ops watch: the tablet lets only a merchant's staff answer its orders, and so does the page.
    assert 'data-action="accept"' not in watched and 'id="watch-only"' in watched


@pytest.mark.parametrize("action", ["accept", "reject", "ready"])
def test_an_answer_from_the_page_changes_the_order_as_the_tablets_does(
    action: str, menu: Menu, placed_order: Order, place: Callable[..., Any]
) -> None:
    staff = make_staff(menu.merchant)
    other = place()
    assert other.status_code == 201
    by_tablet, by_page = placed_order.pk, other.json()["id"]
    if action == "ready":
        for order_id in (by_tablet, by_page):
            lifecycle.accept_order(order_id=order_id, actor=staff, prep_minutes=10)

    from_tablet = tablet(staff, by_tablet, action)
    from_page = PageSession(staff, menu.merchant.pk).answer(by_page, action)

    assert from_tablet.status_code == from_page.status_code == 200
    assert from_page.json().keys() == from_tablet.json().keys()
    orders = {order.pk: order for order in Order.objects.filter(pk__in=[by_tablet, by_page])}
    for field in ("status", "version", "prep_minutes", "status_reason", "cancelled_by"):
        assert getattr(orders[by_page], field) == getattr(orders[by_tablet], field), field
    assert (
        orders[by_page].status
        == {"accept": "accepted", "reject": "rejected", "ready": "ready_for_pickup"}[action]
    )

    def history(order_id: int) -> list[tuple[Any, ...]]:
        return list(
            OrderEvent.objects.filter(order_id=order_id)
            .order_by("version")
            .values_list("kind", "from_status", "to_status", "actor_id", "actor_role", "reason")
        )

    def outbox(order_id: int) -> list[tuple[str, int, list[str]]]:
        return [
            (event.topic, event.sequence, sorted(event.payload))
            for event in OutboxEvent.objects.filter(aggregate_id=str(order_id)).order_by("sequence", "id")
        ]

    assert history(by_page) == history(by_tablet)
    assert outbox(by_page) == outbox(by_tablet)


@pytest.mark.django_db(transaction=True)
def test_two_taps_on_accept_give_one_accept_and_one_conflict(menu: Menu, placed_order: Order) -> None:
    manager = make_staff(menu.merchant)
    owner = UserFactory(roles=[Role.MERCHANT_STAFF], is_staff=True)
    StaffMembership.objects.create(user=owner, merchant=menu.merchant, role="owner")
    pages = [PageSession(manager, menu.merchant.pk), PageSession(owner, menu.merchant.pk)]

    answers = race([lambda page=page: page.answer(placed_order.pk, "accept") for page in pages])

    assert sorted(answer.status_code for answer in answers) == [200, 409]
    conflict = next(answer for answer in answers if answer.status_code == 409).json()["error"]
    assert conflict["code"] == "order_transition_not_allowed"
    assert OrderEvent.objects.filter(order=placed_order, kind=OrderStatus.ACCEPTED).count() == 1
    # The tablet tapped now is told the same.
    late = tablet(make_staff(menu.merchant), placed_order.pk, "accept", {"prep_minutes": 20})
    assert late.status_code == 409 and late.json()["error"] == conflict


def test_a_merchant_cannot_answer_another_merchants_order(menu: Menu, placed_order: Order) -> None:
    version = placed_order.version
    elsewhere = make_merchant()
    outsider = make_staff(elsewhere)
    from_page = PageSession(outsider, elsewhere.pk).answer(placed_order.pk, "accept")
    from_tablet = tablet(outsider, placed_order.pk, "accept")
    assert from_page.status_code == from_tablet.status_code == 404
    assert from_page.json() == from_tablet.json()

    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    from_page = PageSession(ops, menu.merchant.pk).answer(placed_order.pk, "reject")
    assert from_page.status_code == tablet(ops, placed_order.pk, "reject").status_code == 404
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PLACED and placed_order.version == version


def test_answers_need_the_pages_csrf_token_and_a_signed_in_session(menu: Menu, placed_order: Order) -> None:
    page = PageSession(make_staff(menu.merchant), menu.merchant.pk)
    forged = page.answer(placed_order.pk, "accept", HTTP_X_CSRFTOKEN="forged")
    assert forged.status_code == 403
    anonymous = Client().post(
        f"/admin/ops/merchant/orders/{placed_order.pk}/accept",
        data=json.dumps(ANSWERS["accept"]),
        content_type="application/json",
    )
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    placed_order.refresh_from_db()
    assert placed_order.status == OrderStatus.PLACED


def test_a_refusal_carries_the_tablets_error_body(menu: Menu, placed_order: Order) -> None:
    staff = make_staff(menu.merchant)
    page = PageSession(staff, menu.merchant.pk)
    bad = page.answer(placed_order.pk, "accept", {"prep_minutes": 0})
    assert bad.status_code == 400
    assert bad.json() == tablet(staff, placed_order.pk, "accept", {"prep_minutes": 0}).json()
    early = page.answer(placed_order.pk, "ready")
    assert early.status_code == 409
    assert early.json() == tablet(staff, placed_order.pk, "ready").json()


def test_every_admin_page_links_staff_to_the_merchant_pages_and_ops_to_their_dashboard() -> None:
    staff = make_staff(make_merchant())
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    client = Client()

    def nav(user: Any) -> list[str]:
        client.force_login(user)
        html = client.get("/admin/").content.decode()
        found = re.search(r'<nav id="loship-pages">(.*?)</nav>', html, re.S)
        assert found is not None
        return re.findall(r'href="([^"]+)"', found.group(1))

    merchant_pages = ["/admin/ops/merchant/orders/", "/admin/ops/merchant/", "/admin/ops/merchant/statement/"]
    assert nav(staff) == merchant_pages
    assert nav(ops) == ["/admin/ops/dashboard/", *merchant_pages]
    for page in merchant_pages:
        client.force_login(staff)
        assert client.get(page).status_code == 200
