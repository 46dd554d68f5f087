"""API authentication: simplejwt's bearer access token, checked once per process and token, with the
user behind it read from a short cache instead of PostgreSQL on every request.

A token's signature and claims never change, so a process keeps the tokens it validated (at most
`_TOKENS_KEPT`) and only checks their expiry again: an app sends the same access token with every
request for its lifetime, and decoding and verifying it cost a fifth of a millisecond each time.

The rule: a change to a user saved through the ORM (the admin, the services, a shell's `save()`) is
seen by that user's next request, so a deactivated user is refused (401) and a changed role applies
at once; a change that bypasses `save()` and `delete()` (`QuerySet.update()`, SQL) is seen within
`USER_CACHE_SECONDS`, as is the rare read that raced a commit. The cache holds no password hash
(an instance from it loads `password` from the database if something asks).
"""

import hashlib
import logging
from contextlib import suppress
from functools import partial
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from users.models import User

logger = logging.getLogger(__name__)

#: The columns cached, in the model's order; the key names them, so a deploy that changes the table
#: never reads an entry written by the code before it.
_FIELDS = [field.attname for field in User._meta.concrete_fields if field.attname != "password"]
_LAYOUT = hashlib.blake2s(",".join(_FIELDS).encode(), digest_size=4).hexdigest()


def user_cache_key(user_id: Any) -> str:
    return f"users:auth:{_LAYOUT}:{user_id}"


def cached_user(user_id: Any) -> User | None:
    """The user with this id, from the cache or else the database (then cached); None if none.
    Without Redis the user is read from the database."""
    key = user_cache_key(user_id)
    try:
        values = cache.get(key)
    except redis.RedisError:
        logger.warning("user cache: Redis unreachable, reading the user from PostgreSQL", exc_info=True)
        values = None
    if values is not None:
        return User.from_db("default", _FIELDS, values)
    user = User.objects.filter(pk=user_id).only(*_FIELDS).first()
    if user is not None:
        with suppress(redis.RedisError):
            cache.set(key, [getattr(user, name) for name in _FIELDS], settings.USER_CACHE_SECONDS)
    return user


def forget_user(user_id: Any) -> None:
    """Drop the cached copy now and again when the current transaction commits: a request that read
    the row before the commit may have cached the old one in between."""
    _forget(user_cache_key(user_id))
    transaction.on_commit(partial(_forget, user_cache_key(user_id)), robust=True)


def _forget(key: str) -> None:
    with suppress(redis.RedisError):
        cache.delete(key)


def forget_saved_user(sender: type[User], instance: User, **_: Any) -> None:
    """post_save and post_delete receiver (connected in UsersConfig.ready)."""
    forget_user(instance.pk)


_TOKENS_KEPT = 4096
_validated_tokens: dict[bytes, Token] = {}


class CachedUserJWTAuthentication(JWTAuthentication):
    """simplejwt's `JWTAuthentication` with validated tokens kept and the user read through
    `cached_user`, and the same refusals: a bad or expired token, no user id in it, no such user, an
    inactive user."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _validated_tokens.get(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)
            if len(_validated_tokens) >= _TOKENS_KEPT:
                _validated_tokens.clear()
            _validated_tokens[raw_token] = token
            return token
        try:
            token.check_exp(current_time=aware_utcnow())
        except TokenError as error:
            _validated_tokens.pop(raw_token, None)
            raise InvalidToken(error.args[0]) from error
        return token

    # simplejwt types the result as a TypeVar bound to nothing the caller passes; it is always a User here.
    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken("Token contained no recognizable user identification") from error
        user = cached_user(user_id)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user
