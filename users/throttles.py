"""Login and registration limits, per phone number and per client address (429 with Retry-After)."""

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from users.phone import InvalidPhoneNumber, normalize_phone


class AuthPerIpThrottle(SimpleRateThrottle):
    scope = "auth_ip"

    def get_cache_key(self, request: Request, view: APIView) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthPerPhoneThrottle(SimpleRateThrottle):
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
