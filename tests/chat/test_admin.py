"""Ops read an order's chat in the admin to settle a dispute: every message, by side, never a phone
number; nobody can write through it, and merchant staff and customers do not see it."""

import pytest
from django.test import Client

from chat.models import ChatThread
from tests.chat.conftest import Chat
from tests.factories import UserFactory
from tests.orders.factories import make_staff
from users.models import Role

pytestmark = pytest.mark.django_db

LIST = "/admin/chat/chatthread/"


def browser_for(user: object) -> Client:
    browser = Client()
    browser.force_login(user)  # type: ignore[arg-type]
    return browser


def test_ops_read_the_whole_thread_by_side_without_phone_numbers(chat: Chat) -> None:
    chat.send(chat.customer, "Sao chưa tới? Gọi 0912 345 678")
    chat.send(chat.driver, "Kẹt xe anh ơi")
    ops = browser_for(UserFactory(roles=[Role.OPS], is_staff=True))

    listed = ops.get(LIST, {"q": chat.order.code})
    page = ops.get(f"{LIST}{chat.order.pk}/change/")

    assert [thread.pk for thread in listed.context["cl"].result_list] == [chat.order.pk]
    html = page.content.decode()
    assert page.status_code == 200
    assert "Sao chưa tới? Gọi **** *** ***" in html and "Kẹt xe anh ơi" in html
    for phone in (chat.customer.phone, chat.driver.phone, chat.order.customer_phone, "0912"):
        assert phone not in html
    assert 'name="_save"' not in html  # read-only


def test_ops_cannot_add_change_or_delete_threads(chat: Chat) -> None:
    chat.send(chat.customer, "xin chào")
    ops = browser_for(UserFactory(roles=[Role.OPS], is_staff=True))

    assert ops.get(f"{LIST}add/").status_code == 403
    assert ops.post(f"{LIST}{chat.order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ChatThread.objects.filter(pk=chat.order.pk).exists()


def test_merchant_staff_and_customers_see_no_chats(chat: Chat) -> None:
    chat.send(chat.customer, "xin chào")
    staff = make_staff(chat.order.merchant)
    customer = UserFactory(is_staff=True)

    for user in (staff, customer):
        browser = browser_for(user)
        assert browser.get(f"{LIST}{chat.order.pk}/change/").status_code in (302, 403)
        assert browser.get(LIST).status_code in (302, 403)
