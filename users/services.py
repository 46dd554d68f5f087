"""Every write to accounts, addresses and devices goes through these functions."""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from loship.errors import ApplicationError, CommonErrors
from loship.idempotency.models import IdempotencyKey
from users.errors import UserErrors
from users.models import Address, Device, Language, LoginLock, Role, User
from users.phone import InvalidPhoneNumber, normalize_phone


def _validated_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidPhoneNumber:
        raise UserErrors.PHONE_INVALID(fields={"phone": [UserErrors.PHONE_INVALID.text.render()]}) from None


def _validate_password(password: str, *, user: User | None, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise UserErrors.PASSWORD_WEAK(fields={field: list(exc.messages)}) from None


@dataclass(frozen=True, slots=True)
class Registration:
    user: User
    #: False when the same registration, sent again, found the account its first sending created.
    created: bool


@transaction.atomic
def register_user(
    *,
    phone: str,
    password: str,
    full_name: str,
    email: str = "",
    language: str = "vi",
    idempotency: tuple[str, str] | None = None,
) -> Registration:
    """Create a customer account; the phone is stored normalized and is unique (409 if taken).

    With `idempotency` (the request's `Idempotency-Key` and its fingerprint without the password) the
    key is kept with the new account, so that the same request again, password included, finds the
    account instead of a 409. Racing copies serialise on the phone's unique index."""
    normalized = _validated_phone(phone)
    candidate = User(phone=normalized, full_name=full_name, email=email, language=language)
    _validate_password(password, user=candidate, field="password")
    candidate.roles = [Role.CUSTOMER]
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        earlier = _registered_before(normalized, password=password, idempotency=idempotency)
        if earlier is None:
            raise UserErrors.PHONE_TAKEN(fields={"phone": [UserErrors.PHONE_TAKEN.text.render()]}) from None
        return Registration(user=earlier, created=False)
    if idempotency is not None:
        key, fingerprint = idempotency
        IdempotencyKey.objects.create(
            user=candidate, key=key, request_hash=fingerprint, result_id=candidate.pk
        )
    return Registration(user=candidate, created=True)


def _registered_before(phone: str, *, password: str, idempotency: tuple[str, str] | None) -> User | None:
    """The account that a registration with this key and password created; None if there is none
    (another request under the key, once the password is right, is `idempotency_key_reused`)."""
    if idempotency is None:
        return None
    key, fingerprint = idempotency
    used = IdempotencyKey.objects.select_related("user").filter(user__phone=phone, key=key).first()
    if used is None or not used.user.check_password(password):
        return None
    if used.request_hash != fingerprint:
        raise CommonErrors.IDEMPOTENCY_KEY_REUSED()
    user: User = used.user
    return user


def log_in(*, request: HttpRequest | None, phone: str, password: str, now: datetime | None = None) -> User:
    """The account these credentials open. `LOGIN_LOCKOUT_FAILURES` wrong passwords in a row on one
    number lock it for `LOGIN_LOCKOUT_MINUTES` (423 `account_locked`, even with the right password)
    unless ops unlock it sooner; a successful login clears the count."""
    now = now or timezone.now()
    try:
        normalized = normalize_phone(phone)
    except InvalidPhoneNumber:
        raise UserErrors.INVALID_CREDENTIALS() from None
    locked_until = (
        LoginLock.objects.filter(phone=normalized, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    if locked_until is not None:
        raise _locked(locked_until, now=now)
    user = authenticate(request, phone=normalized, password=password)
    if user is None:
        if User.objects.filter(phone=normalized, is_active=False).exists():
            raise UserErrors.ACCOUNT_DISABLED()
        lock = _count_wrong_password(normalized, now=now)
        if lock.locked_until is not None:
            raise _locked(lock.locked_until, now=now)
        raise UserErrors.INVALID_CREDENTIALS()
    assert isinstance(user, User)
    LoginLock.objects.filter(phone=normalized).delete()
    return user


@transaction.atomic
def _count_wrong_password(phone: str, *, now: datetime) -> LoginLock:
    """One more wrong password on this number, counted under the row's lock so that concurrent
    attempts each count; the one that reaches the limit sets the lock. A lock that has run out
    starts the count over."""
    LoginLock.objects.bulk_create([LoginLock(phone=phone)], ignore_conflicts=True)
    lock = LoginLock.objects.select_for_update().get(phone=phone)
    if lock.locked_until is not None and lock.locked_until <= now:
        lock.failures, lock.locked_until = 0, None
    lock.failures += 1
    if lock.locked_until is None and lock.failures >= settings.LOGIN_LOCKOUT_FAILURES:
        lock.locked_until = now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    lock.save(update_fields=["failures", "locked_until", "updated_at"])
    return lock


def _locked(locked_until: datetime, *, now: datetime) -> ApplicationError:
    seconds = max(1, math.ceil((locked_until - now).total_seconds()))
    return UserErrors.ACCOUNT_LOCKED(
        extra={"locked_until": locked_until.isoformat(), "retry_after": seconds},
        minutes=math.ceil(seconds / 60),
    )


def unlock_login(*, phones: Iterable[str]) -> int:
    """Lift the wrong-password lock of these numbers and forget their count (ops); how many had one."""
    deleted, _ = LoginLock.objects.filter(phone__in=list(phones)).delete()
    return deleted


def update_profile(*, user: User, **changes: Any) -> User:
    """Change the user's own name, email or language."""
    allowed = {"full_name", "email", "language"}
    for name, value in changes.items():
        if name not in allowed:
            raise ValueError(f"{name} is not a profile field")
        setattr(user, name, value)
    user.save(update_fields=list(changes))
    return user


def change_password(*, user: User, old_password: str, new_password: str) -> None:
    """Replace the password when the old one is right and the new one is strong enough. Once the new
    one is in place, the same change again (a retry) succeeds and changes nothing."""
    if not user.check_password(old_password):
        if user.check_password(new_password):
            return
        raise UserErrors.PASSWORD_WRONG(fields={"old_password": [UserErrors.PASSWORD_WRONG.text.render()]})
    _validate_password(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])


@transaction.atomic
def save_address(*, user: User, address: Address | None = None, **fields: Any) -> Address:
    """Create or update one of the user's addresses; making it default unsets the previous default."""
    # Lock the owner so two requests setting different defaults cannot both win.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if address is None:
        address = Address(user=user)
        if not Address.objects.filter(user=user).exists():
            fields.setdefault("is_default", True)
    for name, value in fields.items():
        setattr(address, name, value)
    if address.is_default:
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
    address.save()
    return address


@transaction.atomic
def delete_address(*, address: Address) -> None:
    """Delete an address; if it was the default, the newest remaining one becomes default."""
    User.objects.select_for_update().filter(pk=address.user_id).first()
    was_default = address.is_default
    user_id = address.user_id
    address.delete()
    if was_default:
        successor = Address.objects.filter(user_id=user_id).order_by("-created_at").first()
        if successor is not None:
            successor.is_default = True
            successor.save(update_fields=["is_default"])


def register_device(*, user: User, platform: str, token: str) -> Device:
    """Attach a push token to the user; a token moves to whoever registered it last."""
    device, _ = Device.objects.update_or_create(
        token=token, defaults={"user": user, "platform": platform, "last_seen_at": timezone.now()}
    )
    return device


def delete_device(*, device: Device) -> None:
    device.delete()


def set_language(*, user: User, language: str) -> None:
    """The language the person reads Loship in (admin pages, notifications), kept on the account."""
    if language not in Language.values:
        raise ValueError(f"unknown language {language!r}")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
