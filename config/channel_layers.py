"""The channel layer of distributed mode: channels-redis, with a pool that queues bursts."""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class QueueingRedisChannelLayer(RedisChannelLayer):
    """channels-redis whose Redis pool (one per event loop) waits for a free connection.

    redis-py's default asyncio pool raises MaxConnectionsError past 100 connections at once,
    so a burst of group_adds (every open sidebar reconnecting after `serve` restarts) failed
    beyond the hundredth socket. This pool lends at most `max_connections` and makes the
    others wait up to `timeout` seconds for one. Hosts are `{"address": url, ...}` entries
    (the only form settings use); the other keys go to the pool.
    """

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        return BlockingConnectionPool.from_url(host.pop("address"), **host)
