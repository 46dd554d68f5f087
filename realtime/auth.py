"""WebSocket authentication with the API's JWT access token.

Apps cannot set headers on a browser WebSocket, so the token comes as the subprotocol
`bearer.<access>`, or, for apps already shipped, as `?token=<access>` (a URL is logged along the way:
loship/logformat.py redacts it). Consumers read `scope["user"]` (AnonymousUser when absent or bad) and
close with 4401 themselves, so a refusal carries a clear code.
"""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

BEARER_SUBPROTOCOL_PREFIX = "bearer."


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The access token from the (old) query string or the `bearer.<token>` subprotocol."""
    query = parse_qs(scope.get("query_string", b"").decode())
    if query.get("token"):
        return query["token"][0]
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return str(protocol.removeprefix(BEARER_SUBPROTOCOL_PREFIX))
    return None


@database_sync_to_async
def _user_for_token(raw_token: str) -> Any:
    authentication = JWTAuthentication()
    try:
        validated = authentication.get_validated_token(raw_token.encode())
        return authentication.get_user(validated)
    except (InvalidToken, TokenError, AuthenticationFailed):
        return AnonymousUser()


class JWTAuthMiddleware(BaseMiddleware):
    """Puts the token's user (or AnonymousUser for a bad token) on `scope["user"]` and sets
    `scope["auth_method"] = "jwt"`. Without a token it keeps the user of the session middleware in
    front of it (`auth_method` "session"), which only the ops feed accepts, and only from an allowed
    origin."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        raw_token = token_from_scope(scope)
        scope = dict(scope)
        if raw_token:
            scope["user"] = await _user_for_token(raw_token)
            scope["auth_method"] = "jwt"
        else:
            scope.setdefault("user", AnonymousUser())
            scope["auth_method"] = "session"
        return await super().__call__(scope, receive, send)
