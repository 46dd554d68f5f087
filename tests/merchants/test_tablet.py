"""The merchant tablet: availability, busy switch and hours, only for the merchants one works for."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from loship.events.models import OutboxEvent
from merchants.models import ClosedDate, MenuItem, Merchant, OpeningHours, Option
from merchants.selectors import local_today
from tests.conftest import authenticated_client
from tests.merchants.factories import make_group, make_item, make_merchant, make_ops, make_option, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops() -> dict[str, Any]:
    mine, theirs = make_merchant(name="Của tôi"), make_merchant(name="Của người khác")
    my_item, their_item = make_item(mine, "Bánh xèo"), make_item(theirs, "Bánh khọt")
    my_option = make_option(make_group(my_item), "Lớn")
    their_option = make_option(make_group(their_item), "Lớn")
    return {
        "mine": mine,
        "theirs": theirs,
        "my_item": my_item,
        "their_item": their_item,
        "my_option": my_option,
        "their_option": their_option,
        "manager": make_staff(mine),
        "staff": make_staff(mine, role="staff"),
    }


def test_staff_marks_their_dish_sold_out_and_back(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["staff"])
    url = f"/api/v1/merchant/items/{shops['my_item'].pk}/availability"
    response = client.post(url, {"is_available": False}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": shops["my_item"].pk, "is_available": False}
    assert MenuItem.objects.get(pk=shops["my_item"].pk).is_available is False
    event = OutboxEvent.objects.get(topic="merchant.menu_changed")
    assert event.payload == {
        "merchant_id": shops["mine"].pk,
        "item_ids": [shops["my_item"].pk],
        "is_available": False,
    }
    assert client.post(url, {"is_available": True}, format="json").json()["is_available"] is True


def test_another_merchants_dish_is_not_found_and_unchanged(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["manager"])
    response = client.post(
        f"/api/v1/merchant/items/{shops['their_item'].pk}/availability",
        {"is_available": False},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "menu_item_not_found"
    assert MenuItem.objects.get(pk=shops["their_item"].pk).is_available is True


def test_options_follow_the_same_rules(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["staff"])
    ok = client.post(
        f"/api/v1/merchant/options/{shops['my_option'].pk}/availability",
        {"is_available": False},
        format="json",
    )
    assert ok.status_code == 200
    assert Option.objects.get(pk=shops["my_option"].pk).is_available is False
    other = client.post(
        f"/api/v1/merchant/options/{shops['their_option'].pk}/availability",
        {"is_available": False},
        format="json",
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "option_not_found"
    assert Option.objects.get(pk=shops["their_option"].pk).is_available is True


def test_bad_availability_body_writes_nothing(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["staff"])
    url = f"/api/v1/merchant/items/{shops['my_item'].pk}/availability"
    for body in ({}, {"is_available": "maybe"}, {"is_available": False, "price_vnd": 1}):
        response = client.post(url, body, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid"
    assert MenuItem.objects.get(pk=shops["my_item"].pk).is_available is True
    assert not OutboxEvent.objects.exists()


def test_busy_switch(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["staff"])
    response = client.post(
        f"/api/v1/merchant/merchants/{shops['mine'].pk}/busy", {"is_busy": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_busy"] is True and response.json()["role"] == "staff"
    assert Merchant.objects.get(pk=shops["mine"].pk).is_busy is True
    assert OutboxEvent.objects.filter(topic="merchant.busy_changed").count() == 1
    other = client.post(
        f"/api/v1/merchant/merchants/{shops['theirs'].pk}/busy", {"is_busy": True}, format="json"
    )
    assert other.status_code == 404
    assert Merchant.objects.get(pk=shops["theirs"].pk).is_busy is False


def test_my_merchants(shops: dict[str, Any]) -> None:
    body = authenticated_client(shops["manager"]).get("/api/v1/merchant/merchants").json()
    assert [(row["name"], row["role"]) for row in body] == [("Của tôi", "manager")]


WEEK = [{"weekday": day, "opens_at": "07:00", "closes_at": "21:30"} for day in range(5)] + [
    {"weekday": 5, "opens_at": "18:00", "closes_at": "02:00"},
    {"weekday": 6, "opens_at": "10:00", "closes_at": "22:00"},
]


def test_manager_replaces_hours_and_closed_dates(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["manager"])
    today = local_today()
    response = client.put(
        f"/api/v1/merchant/merchants/{shops['mine'].pk}/hours",
        {"intervals": WEEK, "closed_dates": [{"date": today.isoformat(), "reason": "Tết"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["intervals"] == WEEK
    assert body["closed_dates"] == [{"date": today.isoformat(), "reason": "Tết"}]
    assert OpeningHours.objects.filter(merchant=shops["mine"]).count() == 7
    assert ClosedDate.objects.filter(merchant=shops["mine"]).count() == 1
    assert client.get(f"/api/v1/merchant/merchants/{shops['mine'].pk}/hours").json() == body


def test_plain_staff_may_read_but_not_replace_hours(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["staff"])
    url = f"/api/v1/merchant/merchants/{shops['mine'].pk}/hours"
    assert client.get(url).status_code == 200
    response = client.put(url, {"intervals": WEEK}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "merchant_role_required"
    assert OpeningHours.objects.filter(merchant=shops["mine"]).count() == 7  # the factory's


def _interval(weekday: int, opens: str, closes: str) -> dict[str, Any]:
    return {"weekday": weekday, "opens_at": opens, "closes_at": closes}


@pytest.mark.parametrize(
    ("intervals", "code"),
    [
        ([_interval(0, "08:00", "14:00"), _interval(0, "13:00", "20:00")], "opening_hours_overlap"),
        # Sunday night runs into Monday morning, past the end of the week.
        ([_interval(6, "20:00", "03:00"), _interval(0, "02:00", "10:00")], "opening_hours_overlap"),
        ([_interval(1, "00:00", "00:00"), _interval(1, "10:00", "11:00")], "opening_hours_overlap"),
        ([_interval(7, "08:00", "10:00")], "invalid"),
        ([_interval(1, "25:00", "10:00")], "invalid"),
    ],
)
def test_bad_hours_write_nothing(shops: dict[str, Any], intervals: list[dict[str, Any]], code: str) -> None:
    before = list(OpeningHours.objects.filter(merchant=shops["mine"]).values_list("pk", flat=True))
    response = authenticated_client(shops["manager"]).put(
        f"/api/v1/merchant/merchants/{shops['mine'].pk}/hours", {"intervals": intervals}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert list(OpeningHours.objects.filter(merchant=shops["mine"]).values_list("pk", flat=True)) == before
    assert not OutboxEvent.objects.exists()


def test_another_merchants_hours_are_not_found(shops: dict[str, Any]) -> None:
    client = authenticated_client(shops["manager"])
    url = f"/api/v1/merchant/merchants/{shops['theirs'].pk}/hours"
    assert client.get(url).status_code == 404
    assert client.put(url, {"intervals": WEEK}, format="json").status_code == 404
    assert OpeningHours.objects.filter(merchant=shops["theirs"]).count() == 7


def test_customers_and_strangers_are_refused(
    shops: dict[str, Any], customer: Any, api_client: APIClient
) -> None:
    url = f"/api/v1/merchant/items/{shops['my_item'].pk}/availability"
    assert authenticated_client(customer).post(url, {"is_available": False}).json()["error"]["code"] == (
        "permission_denied"
    )
    assert api_client.post(url, {"is_available": False}).status_code == 401
    assert MenuItem.objects.get(pk=shops["my_item"].pk).is_available is True


def test_ops_may_act_on_any_merchant(shops: dict[str, Any]) -> None:
    client = authenticated_client(make_ops())
    response = client.post(
        f"/api/v1/merchant/items/{shops['their_item'].pk}/availability",
        {"is_available": False},
        format="json",
    )
    assert response.status_code == 200
    assert (
        client.put(
            f"/api/v1/merchant/merchants/{shops['theirs'].pk}/hours", {"intervals": WEEK}, format="json"
        ).status_code
        == 200
    )
