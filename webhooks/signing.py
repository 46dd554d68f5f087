"""The signature on every partner webhook, and how a receiver checks it.

Each delivery carries `Loship-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, f"{t}.{body}") over the exact bytes of the request body. Signing the time with
the body lets a receiver refuse a replay: a captured request re-sent later has an old `t`, and
changing `t` breaks the signature. A header may carry several `v1=` values (one per secret while a
partner rolls over to a new one); any match is enough.

This module needs nothing but the standard library, so a partner can copy `verify` as it is. A
receiver in Python:

    from webhooks.signing import InvalidSignature, verify
    try:
        verify(secret=SECRET, header=request.headers["Loship-Signature"], body=request.body)
    except InvalidSignature:
        return 400
    # then deduplicate by the body's "id" (an event may arrive twice) and order by "sequence"

In another language: split the header on ",", take `t` and every `v1`, refuse when |now - t| exceeds
five minutes, compute HMAC-SHA256 of `t + "." + raw body` with the secret as key, and compare its hex
with each `v1` in constant time.
"""

import hashlib
import hmac
import time

HEADER = "Loship-Signature"
SCHEME = "v1"
#: How far a receiver lets the signed time be from its own clock.
DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The header is missing or malformed, too old or too new, or no signature matches."""


def compute(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the `Loship-Signature` header for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},{SCHEME}={compute(secret=secret, timestamp=moment, body=body)}"


def verify(
    *,
    secret: str,
    header: str | None,
    body: bytes,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a received header against the raw body; returns the signed timestamp, or raises
    `InvalidSignature`."""
    if not header:
        raise InvalidSignature("no signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("malformed signature header")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance (a replay, or a skewed clock)")
    expected = compute(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("no signature matches")
    return timestamp
