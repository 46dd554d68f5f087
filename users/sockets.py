"""WebSocket authentication with the API's JWT access token (or, for the ops feed, the admin's session).

Apps cannot set headers on a browser WebSocket, so the token comes as the subprotocol
`bearer.<access>`, or, for apps already shipped, as `?token=<access>` (a URL is logged along the way:
loship/logformat.py redacts it).

Opening a stream costs one trip to the database thread, not one per step. The middleware reads the
credentials without the database (a JWT's signature and expiry are checked on the event loop, which is
CPU work) and puts them on `scope["credentials"]`; the consumer resolves the user with `authenticate`
in the same thread hop that checks what the user may watch and reads the snapshot. A consumer closes a
refusal itself (4401 without a valid user), so it carries a clear code.
"""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal
from urllib.parse import parse_qs

from channels.middleware import BaseMiddleware
from channels.sessions import SessionMiddlewareStack
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

BEARER_SUBPROTOCOL_PREFIX = "bearer."


@dataclass(frozen=True)
class Credentials:
    """What the client presented: a JWT (`token` is None when it was not valid) or the session cookie."""

    method: Literal["jwt", "session"]
    token: Token | None = None


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The access token from the (old) query string or the `bearer.<token>` subprotocol."""
    query = parse_qs(scope.get("query_string", b"").decode())
    if query.get("token"):
        return query["token"][0]
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return str(protocol.removeprefix(BEARER_SUBPROTOCOL_PREFIX))
    return None


class SessionWhenCookie:
    """Channels' session middleware for sockets that bring a cookie (the admin's browser on the ops
    feed), and nothing for the apps, which never do: the session middleware wraps every message the
    server sends, a cost a driver's location acks would pay for a session they cannot have."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.with_session = SessionMiddlewareStack(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if any(name == b"cookie" for name, _ in scope.get("headers", ())):
            return await self.with_session(scope, receive, send)
        return await self.inner(scope, receive, send)


class StreamAuthMiddleware(BaseMiddleware):
    """Puts the socket's `Credentials` on `scope["credentials"]`, touching no database."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw_token = token_from_scope(scope)
        scope = dict(scope)
        if raw_token:
            try:
                token: Token | None = JWTAuthentication().get_validated_token(raw_token.encode())
            except (InvalidToken, TokenError):
                token = None
            scope["credentials"] = Credentials("jwt", token)
        else:
            scope["credentials"] = Credentials("session")
        return await super().__call__(scope, receive, send)


def token_user_id(scope: dict[str, Any]) -> int | None:
    """The user id a valid JWT names (not yet checked against the database), else None."""
    credentials = scope.get("credentials")
    if credentials is None or credentials.token is None:
        return None
    user_id = credentials.token.get(api_settings.USER_ID_CLAIM)
    return int(user_id) if user_id is not None else None


def authenticate(scope: dict[str, Any], *, loaded: Any = None) -> Any:
    """The socket's user (AnonymousUser when the credentials name nobody active). Reads the database:
    call it from the consumer's database thread. `loaded` is a user the caller has already read (the
    customer of the order a stream shows, say): when the token names that user, the row stands in for
    the lookup, with the same checks."""
    credentials = scope.get("credentials")
    if credentials is None:
        return AnonymousUser()
    if credentials.method == "jwt":
        if credentials.token is None:
            return AnonymousUser()
        if loaded is not None and loaded.pk == token_user_id(scope) and not api_settings.CHECK_REVOKE_TOKEN:
            return loaded if loaded.is_active else AnonymousUser()
        try:
            return JWTAuthentication().get_user(credentials.token)
        except (InvalidToken, AuthenticationFailed):
            return AnonymousUser()
    session = scope.get("session")
    if session is None:
        return AnonymousUser()
    return auth.get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
