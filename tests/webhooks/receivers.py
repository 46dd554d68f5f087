"""A partner's webhook receiver as a real HTTP server in a thread, to send the real client code to.

It checks each request's signature with the helper we give partners (webhooks/signing.py) and
records it. What it answers is its `mode`, which a test may change between tries:
- `ok`: 200;
- `slow`: waits `delay` seconds, then 200 (longer than the sender's read timeout: a timeout);
- `error`: 500;
- `close`: reads the request and closes the connection without a word;
- `redirect`: 302 to its own `/elsewhere`, which a sender must not follow.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.processes import free_port
from webhooks.signing import InvalidSignature, verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    mode: str = "ok"
    delay: float = 2.0
    secret: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook_url(self, host: str = "127.0.0.1") -> str:
        return self.url.replace("127.0.0.1", host) + "/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                verify(secret=receiver.secret, header=self.headers.get("Loship-Signature"), body=body)
                verified = True
            except InvalidSignature:
                verified = False
            with receiver.lock:
                receiver.received.append(Received(self.path, dict(self.headers), body, verified))
            mode = receiver.mode
            if mode == "close":
                self.close_connection = True
                return
            if mode == "slow":
                time.sleep(receiver.delay)
            if mode == "redirect":
                self.send_response(302)
                self.send_header("Location", f"{receiver.url}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 500 if mode == "error" else 200
            answer = b'{"ok": false}' if status == 500 else b'{"ok": true}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
