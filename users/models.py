"""Accounts: the phone number is the login; one person may hold several roles."""

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.phone import normalize_phone


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    DRIVER = "driver", _("Driver")
    MERCHANT_STAFF = "merchant_staff", _("Merchant staff")
    OPS = "ops", _("Operations")


class Language(models.TextChoices):
    VIETNAMESE = "vi", "Tiếng Việt"
    ENGLISH = "en", "English"  # a language is named in itself


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        """Log in with any spelling of the phone number."""
        return self.get(phone=normalize_phone(username or ""))

    def create_user(self, phone: str, password: str | None = None, **fields: Any) -> "User":
        user = self.model(phone=normalize_phone(phone), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **fields: Any) -> "User":
        fields.setdefault("roles", [Role.OPS])
        return self.create_user(phone, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(
        max_length=20, unique=True, help_text=_("E.164, e.g. +84912345678"), verbose_name=_("phone")
    )
    email = models.EmailField(blank=True, verbose_name=_("email"))
    full_name = models.CharField(max_length=150, blank=True, verbose_name=_("full name"))
    roles = ArrayField(
        models.CharField(max_length=20, choices=Role.choices),
        default=list,
        blank=True,
        verbose_name=_("roles"),
    )
    language = models.CharField(
        max_length=2, choices=Language.choices, default=Language.VIETNAMESE, verbose_name=_("language")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_staff = models.BooleanField(
        default=False, help_text=_("May log into the admin site."), verbose_name=_("is staff")
    )
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.full_name or 'User'} ({self.phone})"

    def has_role(self, role: Role | str) -> bool:
        return role in self.roles

    @property
    def is_ops(self) -> bool:
        return Role.OPS in self.roles or self.is_superuser

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[-1] if self.full_name else self.phone


class Address(models.Model):
    """A saved delivery address; at most one per user is the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("user"))
    label = models.CharField(max_length=50, verbose_name=_("label"))
    text = models.CharField(max_length=255, verbose_name=_("text"))
    note = models.CharField(max_length=255, blank=True, verbose_name=_("note"))
    lat = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        verbose_name=_("lat"),
    )
    lng = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        verbose_name=_("lng"),
    )
    is_default = models.BooleanField(default=False, verbose_name=_("is default"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(is_default=True), name="one_default_address_per_user"
            ),
            models.CheckConstraint(condition=models.Q(lat__gte=-90, lat__lte=90), name="address_lat_range"),
            models.CheckConstraint(condition=models.Q(lng__gte=-180, lng__lte=180), name="address_lng_range"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text}"


class Platform(models.TextChoices):
    IOS = "ios", _("iOS")
    ANDROID = "android", _("Android")
    WEB = "web", _("Web")


class Device(models.Model):
    """A push token of one of the user's devices. A token belongs to whoever registered it last."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices", verbose_name=_("user"))
    platform = models.CharField(max_length=10, choices=Platform.choices, verbose_name=_("platform"))
    token = models.CharField(max_length=512, unique=True, verbose_name=_("token"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"


class LoginLock(models.Model):
    """Wrong passwords in a row on one phone number, and until when they lock its logins.

    Keyed by the normalized number whether or not an account has it, so a lock tells nothing about
    which numbers are registered. A successful login or ops' unlock deletes the row."""

    phone = models.CharField(
        max_length=20, unique=True, help_text=_("E.164, e.g. +84912345678"), verbose_name=_("phone")
    )
    failures = models.PositiveIntegerField(
        default=0, help_text=_("Wrong passwords since the last success."), verbose_name=_("failures")
    )
    locked_until = models.DateTimeField(null=True, blank=True, verbose_name=_("locked until"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("login lock")
        verbose_name_plural = _("login locks")

    def __str__(self) -> str:
        return f"{self.phone}: {self.failures} wrong passwords"
