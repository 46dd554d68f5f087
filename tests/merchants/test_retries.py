"""The merchant tablet's writes are safe to retry: the same request again answers the same and writes
nothing (no second `merchant.*` event), the hours included."""

import pytest

from loship.events.models import OutboxEvent
from merchants.selectors import local_today
from tests.conftest import authenticated_client
from tests.merchants.factories import make_group, make_item, make_merchant, make_option, make_staff
from tests.retries import sent_twice

pytestmark = pytest.mark.django_db


def test_availability_busy_and_hours_sent_twice_answer_the_same_and_announce_once() -> None:
    merchant = make_merchant()
    item = make_item(merchant, "Bánh xèo")
    option = make_option(make_group(item), "Lớn")
    client = authenticated_client(make_staff(merchant))
    hours = {
        "intervals": [{"weekday": 4, "opens_at": "22:00", "closes_at": "02:00"}],
        "closed_dates": [{"date": str(local_today()), "reason": "Tết"}],
    }

    sent_twice(
        lambda: client.post(
            f"/api/v1/merchant/items/{item.pk}/availability", {"is_available": False}, format="json"
        )
    )
    sent_twice(
        lambda: client.post(
            f"/api/v1/merchant/options/{option.pk}/availability", {"is_available": False}, format="json"
        )
    )
    sent_twice(
        lambda: client.post(
            f"/api/v1/merchant/merchants/{merchant.pk}/busy", {"is_busy": True}, format="json"
        )
    )
    sent_twice(lambda: client.put(f"/api/v1/merchant/merchants/{merchant.pk}/hours", hours, format="json"))

    topics = list(OutboxEvent.objects.order_by("id").values_list("topic", flat=True))
    assert topics == [
        "merchant.menu_changed", "merchant.menu_changed", "merchant.busy_changed", "merchant.hours_changed"
    ]  # fmt: skip
