"""The in-app inbox and preferences API: per user, paginated, unread count, mark read."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from notifications import services
from notifications.models import Notification, NotificationPreference
from tests.conftest import authenticated_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fill_inbox(user: Any, count: int) -> list[Notification]:
    made = [
        services.notify(user=user, kind="order.picked_up", context={"code": f"LS{n}"}, data={"order_id": n})
        for n in range(count)
    ]
    return [n for n in made if n is not None]


def test_inbox_lists_only_my_notifications_newest_first_in_cursor_pages() -> None:
    me, other = UserFactory(), UserFactory()
    mine = fill_inbox(me, 5)
    fill_inbox(other, 2)
    client = authenticated_client(me)
    first = client.get("/api/v1/me/notifications?page_size=3").json()
    assert [n["id"] for n in first["results"]] == [n.pk for n in reversed(mine)][:3]
    second = client.get(first["next"]).json()
    assert [n["id"] for n in second["results"]] == [mine[1].pk, mine[0].pk]
    assert second["next"] is None
    assert first["results"][0]["title"] == "Tài xế đã lấy món" and first["results"][0]["is_read"] is False


def test_unread_count_mark_read_and_mark_all_read() -> None:
    me = UserFactory()
    mine = fill_inbox(me, 3)
    client = authenticated_client(me)
    assert client.get("/api/v1/me/notifications/unread-count").json() == {"unread": 3}
    read = client.post(f"/api/v1/me/notifications/{mine[0].pk}/read")
    assert read.status_code == 200 and read.json()["is_read"] is True
    assert client.post(f"/api/v1/me/notifications/{mine[0].pk}/read").status_code == 200  # idempotent
    assert client.get("/api/v1/me/notifications/unread-count").json() == {"unread": 2}
    unread = client.get("/api/v1/me/notifications?unread=true").json()["results"]
    assert {n["id"] for n in unread} == {mine[1].pk, mine[2].pk}
    assert client.post("/api/v1/me/notifications/read-all").json() == {"marked": 2}
    assert client.get("/api/v1/me/notifications/unread-count").json() == {"unread": 0}


def test_another_users_notification_is_404_and_stays_unread() -> None:
    me, other = UserFactory(), UserFactory()
    [theirs] = fill_inbox(other, 1)
    response = authenticated_client(me).post(f"/api/v1/me/notifications/{theirs.pk}/read")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert authenticated_client(me).post("/api/v1/me/notifications/read-all").json() == {"marked": 0}


def test_inbox_needs_a_token(api_client: Any) -> None:
    response = api_client.get("/api/v1/me/notifications")
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_preferences_default_on_and_can_mute_marketing_only() -> None:
    me = UserFactory()
    client = authenticated_client(me)
    assert client.get("/api/v1/me/notification-preferences").json() == {
        "order_updates": True, "marketing": True, "push": True, "email": True,
    }  # fmt: skip
    response = client.patch("/api/v1/me/notification-preferences", {"marketing": False}, format="json")
    assert response.status_code == 200
    assert response.json() == {"order_updates": True, "marketing": False, "push": True, "email": True}
    assert NotificationPreference.objects.get(user=me).marketing is False


@pytest.mark.parametrize("body", [{"marketing": "maybe"}, {"vip": True}])
def test_bad_preferences_are_refused_in_the_one_error_shape_and_change_nothing(body: dict[str, Any]) -> None:
    me = UserFactory()
    response = authenticated_client(me).patch("/api/v1/me/notification-preferences", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == set(body)
    assert not NotificationPreference.objects.filter(user=me).exists()


def test_schema_documents_the_inbox_without_warnings(api_client: Any, capsys: Any) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert {"/api/v1/me/notifications", "/api/v1/me/notifications/{id}/read",
            "/api/v1/me/notifications/unread-count", "/api/v1/me/notifications/read-all",
            "/api/v1/me/notification-preferences"} <= set(schema["paths"])  # fmt: skip
    warnings = [line for line in capsys.readouterr().err.splitlines() if "notifications" in line]
    assert warnings == []
