"""The project's channel layer joins a group in one round trip and leaves Redis as channels_redis
would: the member scored by the time it joined, the group expiring after `group_expiry`."""

import asyncio
import time

import pytest
from channels.layers import get_channel_layer

from loship.channel_layer import RedisChannelLayer


def test_a_joined_channel_receives_the_groups_messages_and_the_group_expires() -> None:
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)

    async def scenario() -> tuple[float | None, int, dict[str, str]]:
        channel = await layer.new_channel()
        await layer.group_add("test-layer-group", channel)
        connection = layer.connection(layer.consistent_hash("test-layer-group"))
        key = layer._group_key("test-layer-group")
        score, ttl = await connection.zscore(key, channel), await connection.ttl(key)
        await layer.group_send("test-layer-group", {"type": "stream.event", "text": "hello"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        await layer.group_discard("test-layer-group", channel)
        return score, ttl, message

    before = time.time()
    score, ttl, message = asyncio.run(scenario())
    assert score is not None and before - 1 <= score <= time.time()
    assert 0 < ttl <= layer.group_expiry
    assert message == {"type": "stream.event", "text": "hello"}


@pytest.mark.parametrize("group", ["bad group name", "x" * 200])
def test_an_invalid_group_name_is_refused_as_channels_redis_refuses_it(group: str) -> None:
    layer = get_channel_layer()

    async def scenario() -> None:
        await layer.group_add(group, await layer.new_channel())

    with pytest.raises((AssertionError, TypeError)):
        asyncio.run(scenario())
