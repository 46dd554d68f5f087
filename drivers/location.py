"""Live driver positions in Redis: a GEO set for nearest-driver queries, a sorted set of last-seen times
(stale drivers are pruned from both), and one small hash per driver (last fix time, heading, when the
position was last saved to PostgreSQL and last pushed to customers).

One Lua script applies a batch of fixes atomically per call, so two connections sending fixes for the
same driver can never move it backwards: a fix no newer than the stored one is ignored.

Redis is not the truth here: a state change never fails because it is unreachable. The reads a
transition makes (`live_position`) answer "no position" then, and the carrying sets are written after
commit and rewritten from the jobs in PostgreSQL by beat (`drivers.tasks.sync_carrying`, through
`replace_carrying`), so an outage or an empty restart only delays them.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

GEO_KEY = "loship:drivers:geo"
SEEN_KEY = "loship:drivers:seen"
FIX_KEY = "loship:drivers:fix:{}"
CARRYING_KEY = "loship:drivers:carrying:{}"
#: Drivers whose position is due to be copied to PostgreSQL (flushed in bulk by a beat task).
SAVE_DUE_KEY = "loship:drivers:save_due"

#: Redis GEO only stores latitudes within the Web Mercator range.
MAX_GEO_LATITUDE = 85.05112878

_APPLY_FIXES = """
-- KEYS[1] geo, KEYS[2] seen, KEYS[3] save-due set; ARGV[1..3]: now_ms, db_every_ms, push_every_ms;
-- ARGV[4]: the fixes as one JSON array of [driver_id, at_ms, lng, lat, heading, speed] (coordinates as
-- strings, stored as sent). Returns one JSON array of [applied, db_due, push_due] per fix, push_due
-- being the list of order ids the driver carries, or 0. (One argument and one reply instead of six
-- and three per fix: packing and parsing those cost the client more than the script costs Redis.)
-- Each redis.call costs several microseconds, so a fix makes two as a rule (read and write its hash);
-- the GEO set, the seen set and the save-due set are written once per batch, in the fixes' order, so
-- a driver's newest fix is the one that stays. The carrying set is read only for a driver flagged as
-- carrying (`replace_carrying`), and the hash's expiry is renewed with its PostgreSQL save.
local now = tonumber(ARGV[1])
local db_every = tonumber(ARGV[2])
local push_every = tonumber(ARGV[3])
local out, geo, seen, due = {}, {}, {}, {}
for _, fix in ipairs(cjson.decode(ARGV[4])) do
  local driver, at = fix[1], fix[2]
  local fix_key = 'loship:drivers:fix:' .. driver
  local last = redis.call('HMGET', fix_key, 'at', 'saved', 'pushed', 'carrying')
  if at <= tonumber(last[1] or '-1') then
    out[#out + 1] = {0, 0, 0}
  else
    geo[#geo + 1] = fix[3]; geo[#geo + 1] = fix[4]; geo[#geo + 1] = driver
    seen[#seen + 1] = at; seen[#seen + 1] = driver
    local saved = tonumber(last[2] or '0')
    local pushed = tonumber(last[3] or '0')
    local db_due = 0
    if now - saved >= db_every then
      db_due = 1; saved = now
      due[#due + 1] = driver
    end
    local push_due = 0
    if last[4] and now - pushed >= push_every then
      local carrying = redis.call('SMEMBERS', 'loship:drivers:carrying:' .. driver)
      if #carrying > 0 then push_due = carrying; pushed = now end
    end
    redis.call('HSET', fix_key, 'at', at, 'lng', fix[3], 'lat', fix[4],
               'heading', fix[5], 'speed', fix[6], 'saved', saved, 'pushed', pushed)
    if db_due == 1 then redis.call('PEXPIRE', fix_key, 86400000) end
    out[#out + 1] = {1, db_due, push_due}
  end
end
-- In slices: Lua's unpack takes a few thousand values at most.
local function each_slice(command, key, values, width)
  for first = 1, #values, 999 * width do
    redis.call(command, key, unpack(values, first, math.min(first + 999 * width - 1, #values)))
  end
end
each_slice('GEOADD', KEYS[1], geo, 3)
each_slice('ZADD', KEYS[2], seen, 2)
each_slice('SADD', KEYS[3], due, 1)
return cjson.encode(out)
"""


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS reading from a driver's phone; its device time in milliseconds since the epoch, as the
    phone sends it and Redis keeps it (a datetime only when one is asked for: `at`)."""

    lat: float
    lng: float
    at_ms: int
    heading: float | None = None
    speed: float | None = None
    accuracy: float | None = None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.at_ms / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class AppliedFix:
    driver_id: int
    fix: Fix
    applied: bool
    save_to_db: bool
    carrying_order_ids: tuple[int, ...]


def coordinates_valid(lat: float, lng: float) -> bool:
    """Finite, in range, storable in Redis GEO, and not the (0, 0) a phone sends without a GPS lock."""
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return False
    if not (-MAX_GEO_LATITUDE <= lat <= MAX_GEO_LATITUDE and -180 <= lng <= 180):
        return False
    return not (lat == 0 and lng == 0)


_client: redis.Redis | None = None


def client() -> redis.Redis:
    """One connection pool per process to the Redis of REDIS_URL (a hung Redis fails a call in
    seconds, like the cache's client, rather than holding a request)."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _client


_script: Any = None


def apply_fixes(entries: list[tuple[int, Fix]], *, now: datetime) -> list[AppliedFix]:
    """Store the fixes (oldest first per driver) in one atomic script call."""
    global _script
    if not entries:
        return []
    if _script is None:
        _script = client().register_script(_APPLY_FIXES)
    return _applied(entries, _script(keys=_SCRIPT_KEYS, args=_script_arguments(entries, now)))


class LoopFixes:
    """`apply_fixes` from an event loop, on an asyncio client of its own (a WebSocket process applies
    its drivers' fixes without a worker thread). One per event loop: the client belongs to it."""

    def __init__(self) -> None:
        self.client = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        self.script = self.client.register_script(_APPLY_FIXES)

    async def apply(self, entries: list[tuple[int, Fix]], *, now: datetime) -> list[AppliedFix]:
        if not entries:
            return []
        return _applied(entries, await self.script(keys=_SCRIPT_KEYS, args=_script_arguments(entries, now)))


_SCRIPT_KEYS = [GEO_KEY, SEEN_KEY, SAVE_DUE_KEY]


def _script_arguments(entries: list[tuple[int, Fix]], now: datetime) -> list[Any]:
    fixes = [
        [driver_id, fix.at_ms, repr(fix.lng), repr(fix.lat), fix.heading or 0, fix.speed or 0]
        for driver_id, fix in entries
    ]
    return [
        _ms(now),
        int(settings.DRIVER_POSITION_SAVE_SECONDS * 1000),
        int(settings.DRIVER_POSITION_PUSH_SECONDS * 1000),
        orjson.dumps(fixes),
    ]


def _applied(entries: list[tuple[int, Fix]], reply: bytes) -> list[AppliedFix]:
    return [
        AppliedFix(
            driver_id=driver_id,
            fix=fix,
            applied=bool(applied),
            save_to_db=bool(db_due),
            carrying_order_ids=tuple(int(order_id) for order_id in carrying) if carrying else (),
        )
        for (driver_id, fix), (applied, db_due, carrying) in zip(entries, orjson.loads(reply), strict=True)
    ]


def take_due_positions(*, limit: int) -> list[tuple[int, float, float, float, datetime]]:
    """Pop up to `limit` drivers due for a PostgreSQL save, with their latest (lat, lng, heading, at)."""
    redis_client = client()
    members = cast(list[bytes], redis_client.spop(SAVE_DUE_KEY, limit) or [])
    if not members:
        return []
    pipe = redis_client.pipeline()
    for member in members:
        pipe.hmget(FIX_KEY.format(int(member)), ["lat", "lng", "heading", "at"])
    rows = []
    for member, (lat, lng, heading, at) in zip(members, pipe.execute(), strict=True):
        if lat is None or at is None:
            continue
        moment = datetime.fromtimestamp(int(at) / 1000, tz=UTC)
        rows.append((int(member), float(lat), float(lng), float(heading or 0), moment))
    return rows


def prune_stale(*, now: datetime) -> int:
    """Forget drivers with no fix for DRIVER_POSITION_STALE_SECONDS; returns how many were removed."""
    cutoff = _ms(now) - int(settings.DRIVER_POSITION_STALE_SECONDS * 1000)
    redis_client = client()
    stale = cast(list[bytes], redis_client.zrangebyscore(SEEN_KEY, "-inf", cutoff))
    if not stale:
        return 0
    pipe = redis_client.pipeline()
    pipe.zrem(GEO_KEY, *stale)
    pipe.zrem(SEEN_KEY, *stale)
    pipe.execute()
    return len(stale)


def nearby_driver_ids(*, lat: float, lng: float, radius_m: float, count: int) -> list[int]:
    """Drivers with a live position within radius_m, nearest first."""
    members = cast(
        list[bytes],
        client().geosearch(
            GEO_KEY, longitude=lng, latitude=lat, radius=radius_m, unit="m", sort="ASC", count=count
        ),
    )
    return [int(member) for member in members]


def nearby_free_positions(
    *, lat: float, lng: float, radius_m: float, count: int
) -> dict[int, tuple[float, float]]:
    """(lat, lng) of the drivers with a live position within radius_m who carry no order, nearest
    first: two round trips (the GEO search with coordinates, then the carrying sets)."""
    found = cast(
        list[tuple[bytes, tuple[float, float]]],
        client().geosearch(
            GEO_KEY,
            longitude=lng,
            latitude=lat,
            radius=radius_m,
            unit="m",
            sort="ASC",
            count=count,
            withcoord=True,
        ),
    )
    if not found:
        return {}
    pipe = client().pipeline(transaction=False)
    for member, _ in found:
        pipe.exists(CARRYING_KEY.format(int(member)))
    carrying = cast(list[int], pipe.execute())
    return {
        int(member): (d_lat, d_lng)
        for (member, (d_lng, d_lat)), busy in zip(found, carrying, strict=True)
        if not busy
    }


def positions(driver_ids: list[int]) -> dict[int, tuple[float, float]]:
    """(lat, lng) of each driver that has a live position."""
    if not driver_ids:
        return {}
    found = cast(list[Any], client().geopos(GEO_KEY, *driver_ids))
    return {
        driver_id: (float(point[1]), float(point[0]))
        for driver_id, point in zip(driver_ids, found, strict=True)
        if point is not None
    }


def live_position(driver_id: int) -> tuple[float, float] | None:
    """The driver's live (lat, lng); None without one, or while Redis is unreachable (logged), so a
    state change that only plans with it goes ahead without it."""
    try:
        return positions([driver_id]).get(driver_id)
    except redis.RedisError:
        logger.warning("drivers: live position of %s unavailable (Redis)", driver_id)
        return None


def forget(driver_id: int) -> None:
    """Drop the driver's live position (going offline). Best effort: while Redis is unreachable it is
    logged, and the position is pruned once stale; dispatch only offers to drivers online in PostgreSQL."""
    pipe = client().pipeline()
    pipe.zrem(GEO_KEY, driver_id)
    pipe.zrem(SEEN_KEY, driver_id)
    try:
        pipe.execute()
    except redis.RedisError:
        logger.warning("drivers: live position of %s not forgotten (Redis)", driver_id)


def set_carrying(driver_id: int, order_ids: list[int]) -> None:
    """The orders whose customers see this driver move (replaces the previous set)."""
    replace_carrying({driver_id: order_ids})


def replace_carrying(carrying: dict[int, list[int]]) -> None:
    """Replace the carrying set of each driver given (an empty list removes it), in one round trip
    (a transaction); the driver's fix hash is flagged `carrying` while the set exists, so the fixes
    script reads the set only for drivers who carry."""
    pipe = client().pipeline()
    for driver_id, order_ids in carrying.items():
        key, fix_key = CARRYING_KEY.format(driver_id), FIX_KEY.format(driver_id)
        pipe.delete(key)
        if order_ids:
            pipe.sadd(key, *order_ids)
            pipe.expire(key, 6 * 3600)
            pipe.hset(fix_key, "carrying", "1")
            pipe.expire(fix_key, 24 * 3600, nx=True)  # a driver with no fix yet: the flag alone
        else:
            pipe.hdel(fix_key, "carrying")
    pipe.execute()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
