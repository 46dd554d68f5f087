"""The relay process (`manage.py relay_outbox`): publish outbox events the moment they commit.

Every insert into the outbox sends `NOTIFY loship_outbox` (a trigger, migration events/0003),
which PostgreSQL delivers at commit. This process LISTENs on a connection of its own (autocommit) and
waits on it with `select()`; on each notification, and every `OUTBOX_RELAY_POLL_SECONDS` in case one
was missed or a destination's retry came due, it runs `publish_pending()` until nothing more is
published. Notifications that pile up while it publishes fold into one more pass.

Any number of these processes may run: they share the work through the relay's per-aggregate advisory
locks (loship/events/relay.py), which keep each order's events in order and each destination served
once. On a database error it closes its connections and starts again after 1, 2, 4... (at most 30)
seconds. With no relay process running, the beat sweep still publishes, every OUTBOX_SWEEP_SECONDS.
"""

import logging
import select
import socket
import threading
from collections.abc import Callable

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from loship.events.relay import publish_pending

logger = logging.getLogger(__name__)

CHANNEL = "loship_outbox"  # the trigger of migration events/0003 notifies this channel
MAX_BACKOFF_SECONDS = 30.0


def publish_all() -> int:
    """`publish_pending()` until a pass publishes nothing; returns how many events were published."""
    total = 0
    while published := publish_pending():
        total += published
    return total


def serve(
    *,
    poll_seconds: float,
    stop: threading.Event,
    wake: socket.socket | None = None,
    on_listening: Callable[[], None] = lambda: None,
) -> None:
    """Relay until `stop` is set. `wake` (the read end of a signal wake-up socket) interrupts a wait,
    so a SIGTERM is answered at once; `on_listening` runs each time listening has started (what was
    pending by then is published next)."""
    backoff = 0.0
    while not stop.is_set():
        listener: BaseDatabaseWrapper | None = None
        try:
            listener = _listen()
            on_listening()
            publish_all()  # what committed while nobody listened
            backoff = 0.0
            while not stop.is_set():
                _wait(listener, timeout=poll_seconds, wake=wake)
                publish_all()
        except Exception:
            backoff = min(max(backoff * 2, 1.0), MAX_BACKOFF_SECONDS)
            logger.exception("relay: failed; starting again in %.0f s", backoff)
            connection.close()
            _sleep(backoff, stop=stop, wake=wake)
        finally:
            if listener is not None:
                listener.close()


def _listen() -> BaseDatabaseWrapper:
    """A connection of its own (not the one `publish_pending` uses), in autocommit, listening."""
    listener = connections.create_connection("default")
    listener.ensure_connection()
    with listener.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    logger.info("relay: listening on %s", CHANNEL)
    return listener


def _wait(listener: BaseDatabaseWrapper, *, timeout: float, wake: socket.socket | None) -> None:
    """Until a notification arrives, `wake` is written to, or `timeout` seconds pass."""
    raw = listener.connection
    assert raw is not None
    readable, _, _ = select.select([raw, *([wake] if wake else [])], [], [], timeout)
    if raw in readable:
        raw.poll()  # reads what arrived; raises if the server went away
        raw.notifies.clear()
    if wake is not None and wake in readable:
        _drain(wake)


def _sleep(seconds: float, *, stop: threading.Event, wake: socket.socket | None) -> None:
    if wake is None:
        stop.wait(seconds)
    elif not stop.is_set() and select.select([wake], [], [], seconds)[0]:
        _drain(wake)


def _drain(wake: socket.socket) -> None:
    try:
        while wake.recv(512):
            pass
    except BlockingIOError:
        pass
