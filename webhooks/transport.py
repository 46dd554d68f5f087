"""One HTTP POST of a webhook, to an address checked just before (targets.py), never redirected.

The name is resolved and checked by `targets.check`, and the connection goes to the first checked
address: the URL handed to httpx carries the address, while the Host header and, over TLS, the
server name (SNI, and the certificate check) carry the partner's host. So nothing between the check
and the connection can resolve the name again to somewhere else.

Timeouts bound the connect and each read (WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
WEBHOOKS_READ_TIMEOUT_SECONDS); redirects are not followed (a 3xx is a failed delivery, or a
partner's redirect could lead us to an address we would refuse); proxies from the environment are
ignored; at most 1 KiB of the answer is read, for the log.
"""

import time
from dataclasses import dataclass

import httpx
from django.conf import settings

from webhooks.targets import TargetRefused, check

USER_AGENT = "Loship-Webhooks/1.0"
ANSWER_BYTES_KEPT = 1024


@dataclass(frozen=True)
class Answer:
    """What came of one POST: the status code (None when no answer came), the time it took, and the
    error when it did not succeed."""

    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url`; never raises for what the network or the partner does."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        target = check(url)
    except TargetRefused as exc:
        return Answer(None, elapsed(), f"refused: {exc}")
    address = target.addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    timeout = httpx.Timeout(
        connect=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
        read=settings.WEBHOOKS_READ_TIMEOUT_SECONDS,
        write=settings.WEBHOOKS_READ_TIMEOUT_SECONDS,
        pool=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
    )
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                f"{target.scheme}://{literal}:{target.port}{target.path}",
                content=body,
                headers={
                    **headers,
                    "Host": host_header,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                },
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            kept = b""
            try:
                for chunk in response.iter_bytes():
                    kept += chunk
                    if len(kept) >= ANSWER_BYTES_KEPT:
                        break
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        return Answer(None, elapsed(), f"timeout: {type(exc).__name__}")
    except httpx.HTTPError as exc:
        return Answer(None, elapsed(), f"{type(exc).__name__}: {exc}"[:500])
    answer_text = kept[:ANSWER_BYTES_KEPT].decode(errors="replace")
    if 200 <= response.status_code < 300:
        return Answer(response.status_code, elapsed())
    if 300 <= response.status_code < 400:
        return Answer(response.status_code, elapsed(), "redirects are not followed")
    return Answer(response.status_code, elapsed(), f"HTTP {response.status_code}: {answer_text}"[:500])
