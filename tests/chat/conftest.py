"""Orders whose chat is open: placed over the API, accepted by the merchant, given to a driver."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from orders.models import Order
from orders.services import lifecycle
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.orders.factories import Menu, make_menu
from tests.realtime.conftest import order_placer
from users.models import Role, User


@dataclass
class Chat:
    order: Order
    customer: User
    driver: User

    def url(self, tail: str = "") -> str:
        return f"/api/v1/orders/{self.order.pk}/chat{tail}"

    def send(self, user: User, body: Any, **headers: Any) -> Any:
        return authenticated_client(user).post(
            self.url("/messages"), {"body": body}, format="json", **headers
        )

    def read(self, user: User, seq: int) -> Any:
        return authenticated_client(user).post(self.url("/read"), {"seq": seq}, format="json")

    def state(self, user: User) -> Any:
        return authenticated_client(user).get(self.url())

    def history(self, user: User, **params: Any) -> Any:
        return authenticated_client(user).get(self.url("/messages"), params)


def make_driver() -> User:
    return UserFactory(roles=[Role.DRIVER])


def open_chat(menu: Menu, *, assign: bool = True) -> Chat:
    """A customer's accepted order, given to a new driver (unless `assign` is False)."""
    customer, driver = UserFactory(), make_driver()
    order = order_placer(menu)(customer)
    lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
    if assign:
        lifecycle.assign_driver(order_id=order.pk, driver=driver)
    order.refresh_from_db()
    return Chat(order=order, customer=customer, driver=driver)


@pytest.fixture
def menu(db: None) -> Menu:
    return make_menu()


@pytest.fixture
def chat(menu: Menu) -> Chat:
    return open_chat(menu)


@pytest.fixture
def chat_for(menu: Menu) -> Callable[..., Chat]:
    return lambda **kwargs: open_chat(menu, **kwargs)
