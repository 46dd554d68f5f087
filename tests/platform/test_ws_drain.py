"""Stopping a ws process drains its sockets, as the Kubernetes grace period and compose's
stop_grace_period count on: the Procfile's own `ws` line, a real socket, SIGTERM."""

import os
import signal
import sys
import time
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.factories import UserFactory
from tests.processes import LiveProcess, free_port, process_env
from tests.realtime.conftest import token_for
from users.models import Role

# The drain limit of the Procfile's ws line (--timeout-graceful-shutdown).
DRAIN_SECONDS = 20


class ProcfileWs(LiveProcess):
    """`deploy/procfile ws`, with this venv's programs first on PATH (the Procfile names them bare)."""

    name = "ws"

    def __init__(self, *, log_path: Path) -> None:
        self.port = free_port()
        env = process_env(
            env={"PORT": str(self.port), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
        )
        super().__init__(args=["/bin/sh", "deploy/procfile", "ws"], env=env, log_path=log_path)

    def is_ready(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


def test_sigterm_closes_every_socket_with_service_restart_and_exits_within_the_drain(
    _process_registry: list[LiveProcess], tmp_path: Path
) -> None:
    ws = ProcfileWs(log_path=tmp_path / "ws.log")
    _process_registry.append(ws)
    ws.start()
    ops = UserFactory(roles=[Role.OPS], is_staff=True)
    url = f"ws://127.0.0.1:{ws.port}/ws/ops/city/?token={token_for(ops)}"

    with connect(url, open_timeout=10) as first, connect(url, open_timeout=10) as second:
        first.recv(timeout=10)  # the city snapshot: the socket is up
        second.recv(timeout=10)
        stopped_at = time.monotonic()
        os.kill(ws.pid, signal.SIGTERM)  # deploy/procfile execs: the pid is uvicorn's

        codes = []
        for socket in (first, second):
            try:
                while True:
                    socket.recv(timeout=DRAIN_SECONDS)
            except ConnectionClosed:
                codes.append(socket.close_code)

    assert codes == [1012, 1012]  # service restart: the apps reconnect, to another replica
    assert ws.process is not None
    # uvicorn ends a graceful stop by re-raising the signal it got: -SIGTERM is the clean exit here.
    assert ws.process.wait(timeout=DRAIN_SECONDS + 5) in (0, -signal.SIGTERM), ws.log_tail()
    assert "Finished server process" in ws.log_since_start()
    assert time.monotonic() - stopped_at < DRAIN_SECONDS
