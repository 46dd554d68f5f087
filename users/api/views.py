"""Accounts API: thin views that validate, call a service, and render."""

from collections.abc import Mapping
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenBlacklistView, TokenRefreshView

from loship.api_schema import raises
from loship.idempotency.api import (
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_REFUSALS,
    idempotency_key,
    once_per_key,
    request_fingerprint,
)
from loship.idempotency.services import run_once
from users import services
from users.api import serializers as s
from users.models import Address, Device, User
from users.throttles import AuthPerIpThrottle, AuthPerPhoneThrottle


def _token_pair(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _current_user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


#: Creates and deletes honour an optional `Idempotency-Key` (README, "Retrying a request").
KEY_ERRORS = raises(*IDEMPOTENCY_REFUSALS)


def _created_status(created: bool) -> int:
    """201 for what this request created, 200 for what the first request with its key created."""
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [AuthPerIpThrottle, AuthPerPhoneThrottle]

    @extend_schema(
        request=s.RegisterInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.RegisterOutputSerializer, 200: s.RegisterOutputSerializer, **s.REGISTER_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """A retry with the same `Idempotency-Key`, body and password answers 200 with the account it
        created and new tokens."""
        data = s.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = idempotency_key(request)
        idempotency = (key, request_fingerprint(request, secrets=("password",))) if key else None
        registration = services.register_user(**data.validated_data, idempotency=idempotency)
        user = registration.user
        body = {"user": s.UserOutputSerializer(user).data, "tokens": _token_pair(user)}
        return Response(body, status=_created_status(registration.created))


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [AuthPerIpThrottle, AuthPerPhoneThrottle]

    @extend_schema(
        request=s.LoginInputSerializer, responses={200: s.TokenPairOutputSerializer, **s.LOGIN_ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = s.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.log_in(request=request, **data.validated_data)
        return Response(_token_pair(user))


class RefreshApi(TokenRefreshView):
    """Trade the refresh token for a new pair; the old one is blacklisted (rotation). With an
    `Idempotency-Key`, the same request again (its answer lost, the old token now blacklisted) answers
    the refresh token the first request minted, with a new access token."""

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={200: TokenRefreshSerializer, **KEY_ERRORS})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request)
        body = request.data if isinstance(request.data, Mapping) else {}
        payload = s.refresh_token_payload(body.get("refresh"))
        if key is None or payload is None:
            return super().post(request, *args, **kwargs)
        minted: dict[str, str] = {}

        def rotate() -> int:
            minted.update(super(RefreshApi, self).post(request, *args, **kwargs).data)
            new = s.refresh_token_payload(minted["refresh"]) or {}
            return OutstandingToken.objects.get(jti=new.get(api_settings.JTI_CLAIM)).pk

        user_id = int(payload[api_settings.USER_ID_CLAIM])
        rotated = run_once(user_id=user_id, key=key, request_hash=request_fingerprint(request), act=rotate)
        if not rotated.replayed:
            return Response(minted)
        first = OutstandingToken.objects.get(pk=rotated.result_id or 0).token
        try:
            refresh = RefreshToken(first)  # type: ignore[arg-type]  # simplejwt types the encoded token Token
        except TokenError as error:  # used or logged out since: as simplejwt answers a spent token
            raise InvalidToken(error.args[0]) from error
        return Response({"access": str(refresh.access_token), "refresh": first})


class LogoutApi(TokenBlacklistView):
    """Blacklist the refresh token. A token already blacklisted answers the same (a retried logout)."""

    serializer_class = s.LogoutSerializer


class MeApi(APIView):
    @extend_schema(responses=s.UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.UserOutputSerializer(_current_user(request)).data)

    @extend_schema(request=s.ProfileInputSerializer, responses=s.UserOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = s.ProfileInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.update_profile(user=_current_user(request), **data.validated_data)
        return Response(s.UserOutputSerializer(user).data)


class PasswordChangeApi(APIView):
    @extend_schema(request=s.PasswordChangeInputSerializer, responses={204: None, **s.PASSWORD_CHANGE_ERRORS})
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.change_password(user=_current_user(request), **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressListApi(APIView):
    pagination_class = None

    @extend_schema(responses=s.AddressOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        addresses = Address.objects.filter(user=_current_user(request))
        return Response(s.AddressOutputSerializer(addresses, many=True).data)

    @extend_schema(
        request=s.AddressInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.AddressOutputSerializer, 200: s.AddressOutputSerializer, **KEY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.AddressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _current_user(request)
        saved = once_per_key(request, lambda: services.save_address(user=user, **data.validated_data).pk)
        address = get_object_or_404(Address, pk=saved.result_id, user=user)
        return Response(s.AddressOutputSerializer(address).data, status=_created_status(not saved.replayed))


class AddressDetailApi(APIView):
    """One of the caller's own addresses; anyone else's is a 404, never a 403 that leaks it exists."""

    def _address(self, request: Request, pk: int) -> Address:
        return get_object_or_404(Address, pk=pk, user=_current_user(request))

    @extend_schema(responses=s.AddressOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.AddressOutputSerializer(self._address(request, pk)).data)

    @extend_schema(request=s.AddressInputSerializer, responses=s.AddressOutputSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        address = self._address(request, pk)
        data = s.AddressInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        address = services.save_address(user=_current_user(request), address=address, **data.validated_data)
        return Response(s.AddressOutputSerializer(address).data)

    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={204: None, **KEY_ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        once_per_key(request, lambda: services.delete_address(address=self._address(request, pk)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListApi(APIView):
    pagination_class = None

    @extend_schema(responses=s.DeviceOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        devices = Device.objects.filter(user=_current_user(request))
        return Response(s.DeviceOutputSerializer(devices, many=True).data)

    @extend_schema(
        request=s.DeviceInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.DeviceOutputSerializer, 200: s.DeviceOutputSerializer, **KEY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.DeviceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _current_user(request)
        saved = once_per_key(request, lambda: services.register_device(user=user, **data.validated_data).pk)
        device = get_object_or_404(Device, pk=saved.result_id, user=user)
        return Response(s.DeviceOutputSerializer(device).data, status=_created_status(not saved.replayed))


class DeviceDetailApi(APIView):
    @extend_schema(parameters=[IDEMPOTENCY_KEY], responses={204: None, **KEY_ERRORS})
    def delete(self, request: Request, pk: int) -> Response:
        user = _current_user(request)
        once_per_key(
            request, lambda: services.delete_device(device=get_object_or_404(Device, pk=pk, user=user))
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
