"""Firebase Cloud Messaging, HTTP v1 API: a small real client.

    POST {base_url}/v1/projects/{project_id}/messages:send
    Authorization: Bearer <OAuth2 access token>
    {"message": {"token": ..., "notification": {"title", "body"}, "data": {...}}}

The access token comes from a service account (a JWT signed with its private key, exchanged at its
`token_uri` for a bearer token, cached until shortly before it expires) or, for setups that mint
tokens elsewhere, from a configured static token. The base URL and the token URL are configurable so
tests run the client against a local server that speaks the protocol.

Outcomes: the message name on success; `UnregisteredToken` for a dead device token (404, or the
`UNREGISTERED` error code): prune it; `RetryableError` for 429/5xx/network trouble (with the server's
Retry-After when given); `PermanentError` for anything else (a bad message will not get better).
"""

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt
from django.conf import settings

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FcmError(Exception):
    pass


class RetryableError(FcmError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(FcmError):
    pass


class UnregisteredToken(FcmError):
    """The device token is no longer valid (app uninstalled, token rotated): delete it."""


class TokenSource(Protocol):
    def token(self) -> str: ...

    def invalidate(self) -> None: ...


@dataclass
class StaticToken:
    """A bearer token minted elsewhere (e.g. by the platform's metadata server)."""

    value: str

    def token(self) -> str:
        return self.value

    def invalidate(self) -> None:
        """Nothing to refresh: a rejected static token is a configuration error."""


@dataclass
class ServiceAccountToken:
    """OAuth2 service-account flow (RFC 7523): sign a JWT with the account's key, exchange it at
    `token_uri` for an access token, cache it until a minute before it expires."""

    client_email: str
    private_key: str
    token_uri: str
    timeout: float = 5.0
    _cached: tuple[str, float] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_file(cls, path: str, *, token_uri: str = "", timeout: float = 5.0) -> "ServiceAccountToken":
        info = json.loads(Path(path).read_text())
        return cls(
            client_email=info["client_email"],
            private_key=info["private_key"],
            token_uri=token_uri or info.get("token_uri") or "https://oauth2.googleapis.com/token",
            timeout=timeout,
        )

    def token(self) -> str:
        with self._lock:
            if self._cached and self._cached[1] > time.time() + 60:
                return self._cached[0]
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.client_email,
                    "scope": FCM_SCOPE,
                    "aud": self.token_uri,
                    "iat": now,
                    "exp": now + 3600,
                },
                self.private_key,
                algorithm="RS256",
            )
            try:
                response = httpx.post(
                    self.token_uri,
                    data={"grant_type": JWT_BEARER_GRANT, "assertion": assertion},
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                raise RetryableError(f"token exchange failed: {exc!r}") from exc
            if response.status_code >= 500:
                raise RetryableError(f"token exchange: HTTP {response.status_code}")
            if response.status_code != 200:
                raise PermanentError(
                    f"token exchange refused: HTTP {response.status_code} {response.text[:200]}"
                )
            body = response.json()
            self._cached = (str(body["access_token"]), now + float(body.get("expires_in", 3600)))
            return self._cached[0]

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str] = field(default_factory=dict)


class FcmClient:
    def __init__(
        self, *, project_id: str, credentials: TokenSource, base_url: str, timeout: float = 5.0
    ) -> None:
        self.project_id = project_id
        self.credentials = credentials
        self.url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self.timeout = timeout

    @staticmethod
    def body(message: PushMessage) -> dict[str, Any]:
        """The FCM v1 message. Sends are at least once (a sender that dies after FCM accepted a push
        sends it again), so a push of a notification carries its id as the collapse key: the phone
        shows a repeat in place of the first, not beside it."""
        android: dict[str, Any] = {"priority": "high"}
        apns_headers = {"apns-priority": "10"}
        notification_id = message.data.get("notification_id")
        if notification_id is not None:
            android["collapse_key"] = f"n{notification_id}"
            apns_headers["apns-collapse-id"] = f"n{notification_id}"
        return {
            "message": {
                "token": message.token,
                "notification": {"title": message.title, "body": message.body},
                "data": {key: str(value) for key, value in message.data.items()},
                "android": android,
                "apns": {"headers": apns_headers},
            }
        }

    def send(self, message: PushMessage) -> str:
        """Send one message; returns FCM's message name. A rejected access token is renewed once."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.credentials.token()}"}
            try:
                response = httpx.post(
                    self.url, json=self.body(message), headers=headers, timeout=self.timeout
                )
            except httpx.HTTPError as exc:
                raise RetryableError(f"FCM unreachable: {exc!r}") from exc
            if response.status_code == 401 and attempt == 0:
                self.credentials.invalidate()
                continue
            return self._outcome(response)
        raise PermanentError("FCM refused the access token twice")

    @staticmethod
    def _outcome(response: httpx.Response) -> str:
        if response.status_code == 200:
            return str(response.json().get("name", ""))
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        codes = {detail.get("errorCode") for detail in error.get("details", []) if isinstance(detail, dict)}
        summary = f"HTTP {response.status_code} {error.get('status', '')} {sorted(c for c in codes if c)}"
        if response.status_code == 404 or "UNREGISTERED" in codes:
            raise UnregisteredToken(summary)
        if response.status_code == 429 or response.status_code >= 500 or codes & {"UNAVAILABLE", "INTERNAL"}:
            retry_after = response.headers.get("Retry-After")
            raise RetryableError(summary, retry_after=float(retry_after) if retry_after else None)
        raise PermanentError(summary)


def client_from_settings() -> FcmClient | None:
    """The configured client, or None when push is not configured (deliveries are then skipped)."""
    if not settings.FCM_PROJECT_ID:
        return None
    credentials: TokenSource
    if settings.FCM_ACCESS_TOKEN:
        credentials = StaticToken(settings.FCM_ACCESS_TOKEN)
    elif settings.FCM_SERVICE_ACCOUNT_FILE:
        credentials = _service_account(settings.FCM_SERVICE_ACCOUNT_FILE, settings.FCM_TOKEN_URL)
    else:
        return None
    return FcmClient(
        project_id=settings.FCM_PROJECT_ID,
        credentials=credentials,
        base_url=settings.FCM_BASE_URL,
        timeout=settings.FCM_TIMEOUT_SECONDS,
    )


_accounts: dict[tuple[str, str], ServiceAccountToken] = {}


def _service_account(path: str, token_url: str) -> ServiceAccountToken:
    """One cached token source per (file, token URL) in the process, so tokens are reused."""
    key = (path, token_url)
    if key not in _accounts:
        _accounts[key] = ServiceAccountToken.from_file(path, token_uri=token_url)
    return _accounts[key]
