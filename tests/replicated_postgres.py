"""A real PostgreSQL primary and a hot standby that replicates from it by streaming replication, each
in a temporary directory on a free port, for the read replica tests (`loship.db_router`).

The primary is initialised with `wal_level=replica`; the standby is `pg_basebackup -R` of it (which
writes `primary_conninfo` and `standby.signal`), so it replays the primary's WAL as it streams in.
The servers run as the `postgres` system user when the tests run as root (initdb refuses root).
"""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from tests.processes import free_port

BIN = Path(os.environ.get("LOSHIP_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "loship"


def binaries_present() -> bool:
    return all((BIN / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup"))


def _run(*command: str | Path) -> None:
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*prefix, *map(str, command)], check=True, capture_output=True, timeout=120)


@dataclass
class Server:
    data: Path
    port: int

    def start(self) -> None:
        _run(BIN / "pg_ctl", "-D", self.data, "-l", self.data / "server.log", "-w", "-t", "60", "start")

    def stop(self) -> None:
        _run(BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def connect(self, database: str = DATABASE) -> "psycopg2.extensions.connection":
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database)
        connection.autocommit = True
        return connection

    def execute(self, sql: str, database: str = DATABASE) -> object:
        """The first column of the first row `sql` returns (None without rows), in autocommit."""
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                row = cursor.fetchone() if cursor.description else None
        finally:
            connection.close()
        return row[0] if row else None


@dataclass
class ReplicatedPostgres:
    primary: Server
    standby: Server

    def pause_replay(self) -> None:
        self.wait_replayed()
        self.standby.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.standby.execute("SELECT pg_wal_replay_resume()")

    def wait_replayed(self, timeout: float = 20.0) -> None:
        """Until the standby has replayed everything the primary has written."""
        target = self.primary.execute("SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.standby.execute(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
                return
            time.sleep(0.05)
        raise TimeoutError(f"the standby did not replay up to {target}")


def _configure(data: Path, port: int, lines: list[str]) -> None:
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n".join([f"port = {port}", "listen_addresses = '127.0.0.1'", *lines]) + "\n")


@contextmanager
def replicated_postgres() -> Iterator[ReplicatedPostgres]:
    """A primary with database `loship` and a streaming standby of it, both started; removed after."""
    root = Path(tempfile.mkdtemp(prefix="loship-replica-"))
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(root, postgres.pw_uid, postgres.pw_gid)
    sockets = f"unix_socket_directories = '{root}'"
    primary = Server(root / "primary", free_port())
    standby = Server(root / "standby", free_port())
    started: list[Server] = []
    try:
        _run(BIN / "initdb", "-D", primary.data, "-U", "postgres", "--auth=trust", "--no-sync")
        _configure(
            primary.data,
            primary.port,
            [sockets, "wal_level = replica", "max_wal_senders = 4", "fsync = off", "max_connections = 60"],
        )
        primary.start()
        started.append(primary)
        primary.execute(f"CREATE DATABASE {DATABASE}", database="postgres")
        _run(
            BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", primary.port, "-U", "postgres",
            "-D", standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        _configure(standby.data, standby.port, [sockets, "hot_standby = on"])
        standby.start()
        started.append(standby)
        yield ReplicatedPostgres(primary=primary, standby=standby)
    finally:
        for server in reversed(started):
            with contextlib.suppress(subprocess.CalledProcessError):  # a test stopped it already
                server.stop()
        shutil.rmtree(root, ignore_errors=True)
