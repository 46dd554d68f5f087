"""The channel layer: channels_redis' Redis layer, with a socket's group join in one round trip.

channels_redis adds a channel to a group with two commands awaited one after the other (`ZADD`, then
`EXPIRE` on the group), so every stream that opens waits on Redis twice and writes to it twice. Sent
as one pipeline they cost one round trip; nothing else changes (the same keys, scores and expiry, the
same shard).
"""

import time

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer


class RedisChannelLayer(ChannelsRedisLayer):
    async def group_add(self, group: str, channel: str) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        group_key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        async with connection.pipeline(transaction=False) as pipeline:
            pipeline.zadd(group_key, {channel: time.time()})
            pipeline.expire(group_key, self.group_expiry)
            await pipeline.execute()
