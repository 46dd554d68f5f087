"""The phones' end of push: a local server speaking FCM's HTTP v1 send, which the worker's real FCM client
(notifications/fcm.py) posts to. It keeps when each notification reached each device token, so the
ledger can tell pushes lost, doubled or late."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.city.ledger import PushReceipt

PROJECT_ID = "loship-city"
ACCESS_TOKEN = "city-push-token"


class PushReceiver:
    def __init__(self) -> None:
        self.receipts: list[PushReceipt] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    self.answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
                    return
                message = json.loads(raw)["message"]
                receiver.received(message)
                self.answer(200, {"name": f"projects/{PROJECT_ID}/messages/{len(receiver.receipts)}"})

            def answer(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self, message: dict[str, Any]) -> None:
        receipt = PushReceipt(int(message["data"]["notification_id"]), str(message["token"]), time.time())
        with self.lock:
            self.receipts.append(receipt)

    def env(self) -> dict[str, str]:
        """The settings that send the system's pushes here."""
        return {"FCM_PROJECT_ID": PROJECT_ID, "FCM_ACCESS_TOKEN": ACCESS_TOKEN, "FCM_BASE_URL": self.url}

    def close(self) -> None:
        self.server.shutdown()
