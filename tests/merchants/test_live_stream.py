"""A tablet's change reaches the merchant's live stream (the Channels group) through the outbox."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from loship.events.relay import publish_pending
from loship.push import merchant_group
from merchants import services
from tests.merchants.factories import make_item, make_merchant

pytestmark = pytest.mark.django_db


def listen(group: str) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return layer, channel


def test_sold_out_and_busy_reach_the_merchants_stream_only() -> None:
    merchant, other = make_merchant(), make_merchant()
    item = make_item(merchant, "Bánh cuốn")
    layer, channel = listen(merchant_group(merchant.pk))
    _, other_channel = listen(merchant_group(other.pk))

    services.set_item_availability(item_id=item.pk, is_available=False)
    services.set_busy(merchant_id=merchant.pk, is_busy=True)
    assert publish_pending() == 2

    first = async_to_sync(layer.receive)(channel)["event"]
    second = async_to_sync(layer.receive)(channel)["event"]
    assert (first["type"], first["item_ids"], first["is_available"]) == (
        "merchant.menu_changed",
        [item.pk],
        False,
    )
    assert (second["type"], second["is_busy"]) == ("merchant.busy_changed", True)
    assert first["merchant_id"] == second["merchant_id"] == merchant.pk
    assert first["event_id"] != second["event_id"]
    with pytest.raises(TimeoutError):
        async_to_sync(receive_within)(layer, other_channel, 0.5)


async def receive_within(layer: Any, channel: str, seconds: float) -> Any:
    return await asyncio.wait_for(layer.receive(channel), seconds)
