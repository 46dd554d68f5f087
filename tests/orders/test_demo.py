from typing import Any

import pytest

from orders import demo
from orders.models import Order, OrderStatus
from tests.orders.factories import make_menu
from users import demo as user_demo

pytestmark = pytest.mark.django_db


def test_demo_orders_are_seeded_once_in_several_states() -> None:
    logs: list[Any] = []
    user_demo.seed(log=logs.append)
    make_menu()

    demo.seed(log=logs.append)
    demo.seed(log=logs.append)

    statuses = sorted(Order.objects.filter(customer__phone="+84900000002").values_list("status", flat=True))
    assert statuses == sorted(
        [OrderStatus.DELIVERED, OrderStatus.PREPARING, OrderStatus.CANCELLED, OrderStatus.PLACED]
    )
