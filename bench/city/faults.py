"""The faults a city run can break the system with, each at a chosen moment and as often as asked:

worker  SIGKILL the Celery worker (main process and pool) and start it again at once
redis   stop the run's private Redis for REDIS_DOWN_SECONDS and start it again, empty
web     SIGKILL the web process (gunicorn and its workers) and start it again at once
ws      SIGKILL the ws process (uvicorn) and start it again at once
db      terminate every PostgreSQL session on the run's database (pg_terminate_backend), except
        the simulation's own (the one running its checks, named SIMULATION_APPLICATION_NAME)
"""

import asyncio
import time
from typing import Any

import psycopg2

from bench.city.ledger import Fault
from bench.city.stack import PrivateRedis, Stack

KINDS = ("worker", "redis", "web", "ws", "db")
REDIS_DOWN_SECONDS = 10.0
SIMULATION_APPLICATION_NAME = "loship-city-simulation"


def terminate_backends(database_url: str) -> int:
    """End the sessions of the web, ws, worker, beat and relay processes on the run's database."""
    connection = psycopg2.connect(database_url, application_name=SIMULATION_APPLICATION_NAME)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' AND application_name <> %s",
                [SIMULATION_APPLICATION_NAME],
            )
            row = cursor.fetchone()
    finally:
        connection.close()
    return int(row[0]) if row else 0


async def inject(
    kind: str, *, stack: Stack, redis: PrivateRedis | None, database_url: str, redis_down: float
) -> tuple[Fault, dict[str, Any]]:
    """Break one part and put it back; returns the fault's window and what was done."""
    started = time.time()
    detail: dict[str, Any] = {}
    if kind in ("worker", "web", "ws"):
        await asyncio.to_thread(stack.restart_killed, kind)
        ended = time.time()
        ready = await asyncio.to_thread(stack.wait_ready, kind)
        detail["process_up_after_seconds"] = round(ready - ended, 2)
    elif kind == "redis":
        if redis is None:
            raise ValueError("the redis fault needs the run's private Redis (--spawn)")
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(redis_down)
        await asyncio.to_thread(redis.start)
        ended = time.time()
    elif kind == "db":
        detail["sessions_terminated"] = await asyncio.to_thread(terminate_backends, database_url)
        ended = time.time()
    else:
        raise ValueError(f"unknown fault {kind!r}")
    return Fault(kind, started, ended), detail


async def run_schedule(
    kind: str,
    *,
    first_at: float,
    repeat: int,
    every: float,
    stack: Stack,
    redis: PrivateRedis | None,
    database_url: str,
    redis_down: float = REDIS_DOWN_SECONDS,
) -> list[tuple[Fault, dict[str, Any]]]:
    """`repeat` faults of one kind, the first at `first_at` (time.time()), then every `every` seconds."""
    done = []
    for index in range(repeat):
        await asyncio.sleep(max(0.0, first_at + index * every - time.time()))
        done.append(
            await inject(kind, stack=stack, redis=redis, database_url=database_url, redis_down=redis_down)
        )
    return done
