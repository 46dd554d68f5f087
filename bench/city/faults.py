"""The faults a city run can break the system with, each at a chosen moment and as often as asked:

worker  SIGKILL the Celery worker (main process and pool) and start it again at once
redis   stop the run's private Redis for `redis_down` seconds and start it again, empty
web     SIGKILL the web process (gunicorn and its workers) and start it again at once
ws      SIGKILL the ws process (uvicorn) and start it again at once
db      terminate every PostgreSQL session on the run's database (pg_terminate_backend), except
        the simulation's own (the one running its checks, named SIMULATION_APPLICATION_NAME); with a
        burst, again every 0.1 s for that many seconds, so more requests are caught mid-transaction
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import psycopg2

from bench.city.ledger import Fault
from bench.city.stack import Stack
from tests.processes import RedisServer

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


@dataclass
class Breaker:
    """What a fault acts on: the run's processes, its Redis and its database."""

    stack: Stack
    redis: RedisServer | None
    database_url: str
    redis_down: float = REDIS_DOWN_SECONDS
    db_burst: float = 0.0

    async def inject(self, kind: str) -> tuple[Fault, dict[str, Any]]:
        """Break one part and put it back; returns the fault's window and what was done."""
        started = time.time()
        detail: dict[str, Any] = {}
        if kind in ("worker", "web", "ws"):
            process = self.stack.processes[kind]
            await asyncio.to_thread(process.kill)
            ended = time.time()
            await asyncio.to_thread(process.start)  # returns once it answers again
            detail["process_up_after_seconds"] = round(time.time() - ended, 2)
        elif kind == "redis":
            if self.redis is None:
                raise ValueError("the redis fault needs the run's private Redis (--spawn)")
            await asyncio.to_thread(self.redis.stop)
            await asyncio.sleep(self.redis_down)
            await asyncio.to_thread(self.redis.start)
            ended = time.time()
        elif kind == "db":
            terminated = await asyncio.to_thread(terminate_backends, self.database_url)
            while time.time() < started + self.db_burst:
                await asyncio.sleep(0.1)
                terminated += await asyncio.to_thread(terminate_backends, self.database_url)
            detail["sessions_terminated"] = terminated
            ended = time.time()
        else:
            raise ValueError(f"unknown fault {kind!r}")
        return Fault(kind, started, ended), detail

    async def run_schedule(
        self, kind: str, *, first_at: float, repeat: int, every: float
    ) -> list[tuple[Fault, dict[str, Any]]]:
        """`repeat` faults of one kind, the first at `first_at` (time.time()), then every `every` seconds."""
        done = []
        for index in range(repeat):
            await asyncio.sleep(max(0.0, first_at + index * every - time.time()))
            done.append(await self.inject(kind))
        return done
