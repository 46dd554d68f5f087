from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.serializers import TokenBlacklistSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from loship.api_schema import raises
from loship.idempotency.api import IDEMPOTENCY_REFUSALS
from users.errors import UserErrors
from users.models import Address, Device, Language, Platform, User


class StrictSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a client cannot slip in a role, a price or a status."""

    def to_internal_value(self, data: object) -> object:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["This field is not allowed."] for name in unknown})
        return super().to_internal_value(data)


class UserOutputSerializer(serializers.ModelSerializer[User]):
    # Not `format: email` in the schema: the address is optional and answers "" when none was given.
    email = serializers.CharField(read_only=True, help_text="An email address, or empty when none was given.")

    class Meta:
        model = User
        fields = ["id", "phone", "full_name", "email", "language", "roles", "date_joined"]
        read_only_fields = fields


class RegisterInputSerializer(StrictSerializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True, max_length=128)
    full_name = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.VIETNAMESE)


class LoginInputSerializer(StrictSerializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True, max_length=128)


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterOutputSerializer(serializers.Serializer):
    user = UserOutputSerializer()
    tokens = TokenPairOutputSerializer()


class ProfileInputSerializer(StrictSerializer):
    full_name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class PasswordChangeInputSerializer(StrictSerializer):
    old_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class AddressInputSerializer(StrictSerializer):
    # DRF pops declared fields off the class, so this shadows nothing at run time.
    label = serializers.CharField(max_length=50)  # type: ignore[assignment]
    text = serializers.CharField(max_length=255)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True)
    lat = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-90), max_value=Decimal(90)
    )
    lng = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=Decimal(-180), max_value=Decimal(180)
    )
    is_default = serializers.BooleanField(required=False)


class AddressOutputSerializer(serializers.ModelSerializer[Address]):
    class Meta:
        model = Address
        fields = ["id", "label", "text", "note", "lat", "lng", "is_default", "created_at"]
        read_only_fields = fields


class DeviceInputSerializer(StrictSerializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    token = serializers.CharField(max_length=512)


class DeviceOutputSerializer(serializers.ModelSerializer[Device]):
    class Meta:
        model = Device
        fields = ["id", "platform", "token", "created_at", "last_seen_at"]
        read_only_fields = fields


# --- Schema only: what the account operations refuse with (see loship.api_schema) -----------------

REGISTER_ERRORS = raises(
    UserErrors.PHONE_INVALID, UserErrors.PASSWORD_WEAK, UserErrors.PHONE_TAKEN, *IDEMPOTENCY_REFUSALS
)
LOGIN_ERRORS = raises(UserErrors.INVALID_CREDENTIALS, UserErrors.ACCOUNT_DISABLED, UserErrors.ACCOUNT_LOCKED)
PASSWORD_CHANGE_ERRORS = raises(UserErrors.PASSWORD_WRONG, UserErrors.PASSWORD_WEAK)


@extend_schema_serializer(component_name="TokenBlacklist")  # the name simplejwt's own serializer had
class LogoutSerializer(TokenBlacklistSerializer):
    """The refresh token to log out; one already blacklisted (a retried logout) is logged out already."""

    def validate(self, attrs: dict[str, Any]) -> dict[Any, Any]:
        try:
            return super().validate(attrs)
        except TokenError:
            if not _blacklisted_refresh_token(attrs["refresh"]):
                raise
            return {}


def refresh_token_payload(raw: object) -> dict[str, Any] | None:
    """The claims of a refresh token we signed and that has not expired, blacklisted or not; None
    for anything else."""
    if not isinstance(raw, str):
        return None
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]  # simplejwt types it Token
    except TokenBackendError:
        return None
    return payload if payload.get("token_type") == "refresh" else None


def _blacklisted_refresh_token(raw: str) -> bool:
    """Whether `raw` is a refresh token we signed, unexpired, and on the blacklist."""
    payload = refresh_token_payload(raw)
    if payload is None:
        return False
    return BlacklistedToken.objects.filter(token__jti=payload.get(api_settings.JTI_CLAIM)).exists()
