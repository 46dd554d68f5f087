"""`manage.py relay_outbox`: the long-running outbox relay (loship/events/listener.py). Runs until
SIGTERM or SIGINT; run as many as you like."""

import signal
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from loship.events.listener import CHANNEL, serve


class Command(BaseCommand):
    help = "Publish outbox events as they commit (LISTEN loship_outbox), with a safety poll."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=settings.OUTBOX_RELAY_POLL_SECONDS,
            help="Also publish this often without a notification (default: OUTBOX_RELAY_POLL_SECONDS).",
        )

    def handle(self, *args: Any, poll_seconds: float, **options: Any) -> None:
        stop = threading.Event()
        wake, waker = socket.socketpair()
        for end in (wake, waker):
            end.setblocking(False)
        signal.set_wakeup_fd(waker.fileno())
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())

        def ready() -> None:
            self.stdout.write(f"relay_outbox: listening on {CHANNEL}, polling every {poll_seconds:g} s")
            self.stdout.flush()

        try:
            serve(poll_seconds=poll_seconds, stop=stop, wake=wake, on_listening=ready)
        finally:
            signal.set_wakeup_fd(-1)
            wake.close()
            waker.close()
        self.stdout.write("relay_outbox: stopped")
