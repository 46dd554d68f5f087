"""Local servers that speak the protocols of our third parties, so the real client code is exercised:
an FCM HTTP v1 + Google OAuth2 token endpoint, and an SMTP server (aiosmtpd)."""

import json
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.processes import free_port

PROJECT_ID = "loship-test"
CLIENT_EMAIL = "push@loship-test.iam.gserviceaccount.com"


@dataclass
class FakeFcm:
    """Checks what it receives like FCM would: a valid RS256 service-account assertion at /token, the
    issued bearer token on every send, the v1 message shape. Tokens named `dead-*` are UNREGISTERED,
    `flaky-*` fail once with 503, `down-*` always fail with 503. The first send to a `hold-*` token
    sets `holding` and waits (a sender stuck mid-send) until `release` is set, then fails with 503.

    `process_env` is what a child process (a Celery worker) needs in its environment to push here."""

    public_key: Any
    url: str = ""
    issued_tokens: list[str] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    rejected_auth: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    revoke_next: bool = False
    process_env: dict[str, str] = field(default_factory=dict)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    def handle_token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        claims = jwt.decode(
            form["assertion"][0], self.public_key, algorithms=["RS256"], audience=self.token_url
        )
        assert claims["iss"] == CLIENT_EMAIL
        assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
        self.assertions.append(claims)
        token = f"access-{len(self.issued_tokens) + 1}"
        self.issued_tokens.append(token)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def handle_send(
        self, path: str, auth: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        assert path == f"/v1/projects/{PROJECT_ID}/messages:send", path
        if self.revoke_next:
            self.revoke_next = False
            self.issued_tokens.clear()
        if not self.issued_tokens or auth != f"Bearer {self.issued_tokens[-1]}":
            self.rejected_auth += 1
            return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, {}
        message = body["message"]
        assert set(message) >= {"token", "notification", "data"}
        assert all(isinstance(value, str) for value in message["data"].values())
        token = message["token"]
        if token.startswith("hold-") and token not in self.failures:
            self.failures[token] = 1
            self.holding.set()
            self.release.wait(timeout=60)
            return 503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, {}
        if token.startswith("dead-"):
            detail = {
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": "UNREGISTERED",
            }
            return 404, {"error": {"code": 404, "status": "NOT_FOUND", "details": [detail]}}, {}
        if token.startswith("down-") or (token.startswith("flaky-") and self.failures.get(token, 0) == 0):
            self.failures[token] = self.failures.get(token, 0) + 1
            return 503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, {"Retry-After": "1"}
        self.messages.append(message)
        return 200, {"name": f"projects/{PROJECT_ID}/messages/{len(self.messages)}"}, {}


def start_fake_fcm() -> tuple[FakeFcm, ThreadingHTTPServer, str]:
    """The server, and the PEM private key of its service account."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    fake = FakeFcm(public_key=key.public_key())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers: dict[str, str] = {}
            if self.path == "/token":
                status, body = fake.handle_token(parse_qs(raw.decode()))
            else:
                status, body, headers = fake.handle_send(
                    self.path, self.headers.get("Authorization", ""), json.loads(raw)
                )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server, pem


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


def start_smtp() -> tuple[Mailbox, Controller]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return mailbox, controller
