"""The helper partners verify our signature with: it accepts what we sign and refuses a changed body, a
wrong secret, a replay outside the tolerance and a malformed header."""

import hashlib
import hmac

import pytest

from webhooks.signing import InvalidSignature, compute, sign, verify

SECRET = "whsec_test"
BODY = b'{"id":"e1","type":"order.placed"}'
NOW = 1_800_000_000


def test_a_signed_body_verifies_and_gives_its_timestamp() -> None:
    header = sign(secret=SECRET, body=BODY, timestamp=NOW)

    assert header == f"t={NOW},v1={compute(secret=SECRET, timestamp=NOW, body=BODY)}"
    assert verify(secret=SECRET, header=header, body=BODY, now=NOW + 10) == NOW


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()

    assert compute(secret=SECRET, timestamp=NOW, body=BODY) == expected


@pytest.mark.parametrize(
    ("header", "body", "secret", "now"),
    [
        (sign(secret=SECRET, body=BODY, timestamp=NOW), BODY + b" ", SECRET, NOW),  # body changed
        (sign(secret=SECRET, body=BODY, timestamp=NOW), BODY, "whsec_other", NOW),  # another secret
        (sign(secret=SECRET, body=BODY, timestamp=NOW), BODY, SECRET, NOW + 301),  # replayed later
        (sign(secret=SECRET, body=BODY, timestamp=NOW + 301), BODY, SECRET, NOW),  # from the future
        (
            sign(secret=SECRET, body=BODY, timestamp=NOW).replace(f"t={NOW}", f"t={NOW + 1}"),
            BODY,
            SECRET,
            NOW,
        ),
        (f"t={NOW}", BODY, SECRET, NOW),
        ("v1=abc", BODY, SECRET, NOW),
        ("", BODY, SECRET, NOW),
        (None, BODY, SECRET, NOW),
    ],
)
def test_anything_else_is_refused(header: str | None, body: bytes, secret: str, now: int) -> None:
    with pytest.raises(InvalidSignature):
        verify(secret=secret, header=header, body=body, now=now)


def test_any_of_several_signatures_may_match() -> None:
    header = f"t={NOW},v1={'f' * 64},v1={compute(secret=SECRET, timestamp=NOW, body=BODY)}"

    assert verify(secret=SECRET, header=header, body=BODY, now=NOW) == NOW
