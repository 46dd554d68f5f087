"""The inbox's writes are safe to retry: marking read and changing preferences again answer the same and
write nothing more; "read all" again marks nothing (it says how many this request marked)."""

import pytest

from notifications import services
from tests.conftest import authenticated_client
from tests.factories import UserFactory
from tests.retries import sent_twice

pytestmark = pytest.mark.django_db


def test_marking_read_and_changing_preferences_twice_answer_the_same() -> None:
    me = UserFactory()
    notification = services.notify(user=me, kind="order.picked_up", context={"code": "LS1"})
    assert notification is not None
    services.notify(user=me, kind="order.picked_up", context={"code": "LS2"})
    client = authenticated_client(me)

    sent_twice(lambda: client.post(f"/api/v1/me/notifications/{notification.pk}/read"))
    sent_twice(
        lambda: client.patch("/api/v1/me/notification-preferences", {"marketing": True}, format="json")
    )
    first = client.post("/api/v1/me/notifications/read-all")
    again = client.post("/api/v1/me/notifications/read-all")

    assert (first.json(), again.status_code, again.json()) == ({"marked": 1}, 200, {"marked": 0})
