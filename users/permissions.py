"""Who may call an API view: one meaning per role, used by every app's views.

A permission class answers only "may this kind of caller use this endpoint at all?". Which objects
the caller may touch is decided per object by the view's own queryset (someone else's is a 404).
"""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from users.errors import UserErrors
from users.models import Role, User


def request_user(request: Request) -> User:
    """The signed-in user of a request that a permission class has already let through."""
    user = request.user
    assert isinstance(user, User), "request_user() needs a view whose permissions require sign-in"
    return user


def is_ops(user: object) -> bool:
    """Operations staff: an active user with the ops role, or a superuser (API, admin and streams)."""
    return isinstance(user, User) and user.is_active and user.is_ops


def _signed_in(request: Request) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_active else None


class IsOps(BasePermission):
    """Operations staff (the ops role, or a superuser)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _signed_in(request)
        return bool(user and user.is_ops)


class IsMerchantStaff(BasePermission):
    """Merchant staff, or ops (who act for any merchant); which merchants is the view's business."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _signed_in(request)
        return bool(user and (user.has_role(Role.MERCHANT_STAFF) or user.is_ops))


class IsDriver(BasePermission):
    """Drivers; anyone else signed in is told they are not a driver (403 `not_a_driver`). An anonymous
    caller is refused as by every other permission, and DRF answers 401 with WWW-Authenticate."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = _signed_in(request)
        if user is None:
            return False
        if not user.has_role(Role.DRIVER):
            raise UserErrors.NOT_A_DRIVER()
        return True
