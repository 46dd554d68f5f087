"""Login and registration limits, per phone number and per client address (429 with Retry-After).

The counters live in Redis. While Redis is unreachable the limits fail closed: logins and
registrations answer 503 `rate_limit_unavailable` with a Retry-After, because without the counters
nothing bounds password guessing across numbers from one address (the lockout in PostgreSQL counts per
number). Apps already signed in are unaffected: their tokens, and refreshing them, need no Redis.
"""

import logging

from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from loship.errors import CommonErrors
from users.phone import InvalidPhoneNumber, normalize_phone

logger = logging.getLogger(__name__)

#: What a refused client is told to wait while the counters are unreachable.
UNAVAILABLE_RETRY_AFTER_SECONDS = 10


class FailClosedThrottle(SimpleRateThrottle):
    """A rate limit that refuses (503) rather than lets through when it cannot count."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("auth: %s limit cannot count (Redis); refusing", self.scope)
            retry_after = UNAVAILABLE_RETRY_AFTER_SECONDS
            raise CommonErrors.RATE_LIMIT_UNAVAILABLE(
                extra={"retry_after": retry_after}, retry_after=retry_after
            ) from None


class AuthPerIpThrottle(FailClosedThrottle):
    scope = "auth_ip"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthPerPhoneThrottle(FailClosedThrottle):
    """Counts attempts on one number whatever its spelling, so guessing a password is slow."""

    scope = "auth_phone"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        raw = request.data.get("phone") if hasattr(request.data, "get") else None
        if not isinstance(raw, str):
            return None
        try:
            ident = normalize_phone(raw)
        except InvalidPhoneNumber:
            ident = raw.strip()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}
