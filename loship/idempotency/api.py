"""The `Idempotency-Key` header on the API: how a view reads it, runs its work once per key, and
documents it.

Placement requires the header; the other creates and deletes honour it when sent (a request without
one behaves as it always did). The same key with the same method, path and body answers what the first
request made, as it is now (200 for a create, whose first answer was 201); the same key with another
request is a 422 `idempotency_key_reused`.
"""

from collections.abc import Callable, Mapping

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from loship.errors import CommonErrors
from loship.idempotency.services import MAX_KEY_LENGTH, Outcome, request_hash, run_once

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="Optional, 1 to 100 characters: the same request again with the same key answers what "
    "the first did (a create: 200 with what it created) and does nothing more.",
)
#: What an operation honouring the header may refuse with because of it (for `raises`).
IDEMPOTENCY_REFUSALS = (CommonErrors.IDEMPOTENCY_KEY_INVALID, CommonErrors.IDEMPOTENCY_KEY_REUSED)


def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, None without one; one over 100 characters is a 400."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise CommonErrors.IDEMPOTENCY_KEY_INVALID()
    return key or None


def request_fingerprint(request: Request, *, secrets: tuple[str, ...] = ()) -> str:
    """What makes two requests "the same": method, path and body (without the `secrets` fields, which
    the caller checks its own way rather than keep a fast hash of them)."""
    data = request.data
    body = (
        {name: value for name, value in data.items() if name not in secrets}
        if isinstance(data, Mapping)
        else data
    )
    return request_hash({"method": request.method, "path": request.path, "body": body})


def once_per_key(request: Request, act: Callable[[], int | None]) -> Outcome:
    """Run `act` (returning the id of what it made or acted on) once per `Idempotency-Key` of the
    signed-in user, or simply run it when the request carries no key."""
    key = idempotency_key(request)
    if key is None:
        return Outcome(result_id=act(), replayed=False)
    user_id = request.user.pk
    assert user_id is not None, "keys are kept per signed-in user"
    return run_once(user_id=user_id, key=key, request_hash=request_fingerprint(request), act=act)
