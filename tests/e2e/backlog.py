"""A backlog of outbox events for the kill-mid-relay tests: thirty watched orders, each with three
changes waiting to be published, and the check that every stream got them once, in order."""

import time

from loship.events.models import OutboxEvent
from orders.services import lifecycle
from tests.e2e.streams import StreamClient, order_stream_url
from tests.factories import UserFactory
from tests.orders.factories import make_menu, make_staff
from tests.realtime.conftest import order_placer

ORDERS = 30
CHANGES = [("order.accepted", 2), ("order.preparing", 3), ("order.ready_for_pickup", 4)]


def watched_orders_with_a_backlog(ws_url: str) -> tuple[list[StreamClient], int]:
    """Thirty placed orders, each watched by its customer's stream (snapshot seen), then accepted,
    preparing and ready with nothing relayed yet; the streams and how many events wait."""
    menu = make_menu()
    place = order_placer(menu)
    make_staff(menu.merchant)
    customers = [UserFactory() for _ in range(ORDERS)]
    orders = [place(customer) for customer in customers]
    streams = [
        StreamClient(order_stream_url(ws_url, o.pk, c)) for o, c in zip(orders, customers, strict=True)
    ]
    for stream in streams:
        assert stream.next()[1]["sequence"] == 1
    for order in orders:
        lifecycle.accept_order(order_id=order.pk, actor=None, prep_minutes=10)
        lifecycle.mark_preparing(order_id=order.pk, actor=None)
        lifecycle.mark_ready(order_id=order.pk, actor=None)
    waiting = OutboxEvent.objects.filter(published_at__isnull=True).count()
    assert waiting >= ORDERS * (1 + len(CHANGES))
    return streams, waiting


def assert_each_stream_got_the_backlog_once(streams: list[StreamClient]) -> None:
    for stream in streams:
        got = [(m["type"], m["sequence"]) for _, m in stream.order_events(len(CHANGES))]
        assert got == CHANGES
    time.sleep(1.0)
    for stream in streams:
        assert not [m for m in stream.drain() if str(m.get("type")).startswith("order.")]
        stream.close()
