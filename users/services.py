"""Every write to accounts, addresses and devices goes through these functions."""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from users.errors import UserErrors
from users.models import Address, Device, Role, User
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


@transaction.atomic
def register_user(
    *, phone: str, password: str, full_name: str, email: str = "", language: str = "vi"
) -> User:
    """Create a customer account; the phone is stored normalized and is unique (409 if taken)."""
    normalized = _validated_phone(phone)
    candidate = User(phone=normalized, full_name=full_name, email=email, language=language)
    _validate_password(password, user=candidate, field="password")
    candidate.roles = [Role.CUSTOMER]
    candidate.set_password(password)
    try:
        with transaction.atomic():
            candidate.save()
    except IntegrityError:
        raise UserErrors.PHONE_TAKEN(fields={"phone": [UserErrors.PHONE_TAKEN.text.render()]}) from None
    return candidate


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
    """Replace the password when the old one is right and the new one is strong enough."""
    if not user.check_password(old_password):
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
