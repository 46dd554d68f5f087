"""The channel layer: channels_redis' Redis layer, with a socket's group join in one round trip, and a
send to a process-specific channel that lands on the shard its reader reads.

channels_redis adds a channel to a group with two commands awaited one after the other (`ZADD`, then
`EXPIRE` on the group), so every stream that opens waits on Redis twice and writes to it twice. Sent
as one pipeline they cost one round trip; nothing else changes (the same keys, scores and expiry, the
same shard: `consistent_hash(group)`, the one `group_send` and `group_discard` use).

With several hosts (CHANNEL_REDIS_URLS), channels_redis 4.3 reads a process-specific channel
(`specific.<process>!<socket>`) on the shard of its process part (`specific.<process>!`), and so does
`group_send`, but `send` hashes the whole name: a direct send to a socket then lands on the other shard
about half the time and is never read. Hashing a specific channel by its process part everywhere puts
every message where its reader is; with one host every name hashes to it anyway.
"""

import time

from channels_redis.core import RedisChannelLayer as ChannelsRedisLayer


class RedisChannelLayer(ChannelsRedisLayer):
    def consistent_hash(self, value: str | bytes) -> int:
        """The shard of a group or channel; a process-specific channel's is its process part's."""
        name = value.encode() if isinstance(value, str) else value
        if b"!" in name:
            name = name[: name.index(b"!") + 1]
        return int(super().consistent_hash(name))

    async def group_add(self, group: str, channel: str) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        group_key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        async with connection.pipeline(transaction=False) as pipeline:
            pipeline.zadd(group_key, {channel: time.time()})
            pipeline.expire(group_key, self.group_expiry)
            await pipeline.execute()
