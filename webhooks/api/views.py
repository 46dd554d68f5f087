"""Partner webhooks for merchant staff (their own merchants) and ops (any): endpoints, their secret
(shown when made or rolled, never again), the delivery log and redelivery.

Any staff of the merchant may look; changing anything needs the owner or a manager (403
`merchant_role_required`). Another merchant's endpoint or delivery is a 404, as if it did not exist.
"""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loship.api_schema import raises
from loship.idempotency.api import IDEMPOTENCY_KEY, IDEMPOTENCY_REFUSALS, once_per_key
from loship.pagination import CursorPagination
from merchants.errors import MerchantErrors
from merchants.models import MANAGING_ROLES, Merchant
from merchants.selectors import membership_role
from users.models import User
from users.permissions import IsMerchantStaff, request_user
from webhooks import services
from webhooks.api import serializers as s
from webhooks.errors import WebhookErrors
from webhooks.models import WebhookDelivery, WebhookEndpoint

TARGET_REFUSALS = tuple(WebhookErrors.BY_TARGET_CODE.values())


def _allowed(user: User, merchant_id: int, *, manage: bool) -> bool:
    """Whether the user may see (or with `manage`, change) the merchant's webhooks; a plain staff
    member asking to change them is a 403."""
    role = "ops" if user.is_ops else membership_role(user, merchant_id)
    if role is None:
        return False
    if manage and role != "ops" and role not in MANAGING_ROLES:
        raise MerchantErrors.ROLE_REQUIRED()
    return True


def _endpoint(request: Request, pk: int, *, manage: bool = False) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None or not _allowed(request_user(request), endpoint.merchant_id, manage=manage):
        raise WebhookErrors.ENDPOINT_NOT_FOUND()
    return endpoint


def _with_secret(endpoint: WebhookEndpoint, secret: str | None) -> dict[str, Any]:
    return {**s.EndpointOutputSerializer(endpoint).data, "secret": secret}


class EndpointListApi(APIView):
    permission_classes = [IsMerchantStaff]

    def _merchant_id(self, request: Request, pk: int, *, manage: bool) -> int:
        if not Merchant.objects.filter(pk=pk).exists() or not _allowed(
            request_user(request), pk, manage=manage
        ):
            raise MerchantErrors.MERCHANT_NOT_FOUND()
        return pk

    @extend_schema(
        operation_id="merchant_webhooks_list",
        responses={200: s.EndpointOutputSerializer(many=True), **raises(MerchantErrors.MERCHANT_NOT_FOUND)},
    )
    def get(self, request: Request, pk: int) -> Response:
        merchant_id = self._merchant_id(request, pk, manage=False)
        endpoints = WebhookEndpoint.objects.filter(merchant_id=merchant_id).order_by("id")
        return Response(s.EndpointOutputSerializer(endpoints, many=True).data)

    @extend_schema(
        operation_id="merchant_webhooks_create",
        request=s.EndpointInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.EndpointWithSecretSerializer,
            200: s.EndpointWithSecretSerializer,
            **raises(
                MerchantErrors.MERCHANT_NOT_FOUND,
                MerchantErrors.ROLE_REQUIRED,
                WebhookErrors.TOO_MANY,
                *TARGET_REFUSALS,
                *IDEMPOTENCY_REFUSALS,
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Register an endpoint; the answer carries its signing secret, shown this once."""
        merchant_id = self._merchant_id(request, pk, manage=True)
        data = s.EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        secrets: list[str] = []

        def register() -> int:
            endpoint, secret = services.register_endpoint(
                merchant_id=merchant_id, created_by=request_user(request), **data.validated_data
            )
            secrets.append(secret)
            return endpoint.pk

        made = once_per_key(request, register)
        endpoint = WebhookEndpoint.objects.filter(pk=made.result_id or 0).first()
        if endpoint is None:  # replayed after the endpoint was removed
            raise WebhookErrors.ENDPOINT_NOT_FOUND()
        return Response(
            _with_secret(endpoint, secrets[0] if secrets else None),
            status=status.HTTP_200_OK if made.replayed else status.HTTP_201_CREATED,
        )


class EndpointApi(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        operation_id="merchant_webhook_detail",
        responses={200: s.EndpointOutputSerializer, **raises(WebhookErrors.ENDPOINT_NOT_FOUND)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.EndpointOutputSerializer(_endpoint(request, pk)).data)

    @extend_schema(
        operation_id="merchant_webhook_update",
        request=s.EndpointPatchSerializer,
        responses={
            200: s.EndpointOutputSerializer,
            **raises(WebhookErrors.ENDPOINT_NOT_FOUND, MerchantErrors.ROLE_REQUIRED, *TARGET_REFUSALS),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        """Change the URL, the events or the description, or enable (`is_active: true`) or disable it."""
        endpoint = _endpoint(request, pk, manage=True)
        data = s.EndpointPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint_id=endpoint.pk, **data.validated_data)
        return Response(s.EndpointOutputSerializer(endpoint).data)

    @extend_schema(
        operation_id="merchant_webhook_delete",
        responses={204: None, **raises(WebhookErrors.ENDPOINT_NOT_FOUND, MerchantErrors.ROLE_REQUIRED)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        """Remove the endpoint and its delivery log (nothing more is sent to it)."""
        services.delete_endpoint(endpoint_id=_endpoint(request, pk, manage=True).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RollSecretApi(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(
        operation_id="merchant_webhook_roll_secret",
        request=None,
        responses={
            200: s.EndpointWithSecretSerializer,
            **raises(WebhookErrors.ENDPOINT_NOT_FOUND, MerchantErrors.ROLE_REQUIRED),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """A new signing secret, in this answer only; the old one stops signing at once."""
        endpoint, secret = services.roll_secret(endpoint_id=_endpoint(request, pk, manage=True).pk)
        return Response(_with_secret(endpoint, secret))


class DeliveryPagination(CursorPagination):
    ordering = "-created_at"


class DeliveryListApi(ListAPIView[WebhookDelivery]):
    """The endpoint's delivery log, newest first: status, tries, the last answer's code and latency."""

    permission_classes = [IsMerchantStaff]
    serializer_class = s.DeliveryOutputSerializer
    pagination_class = DeliveryPagination
    filter_backends: list[type] = []

    def get_queryset(self) -> QuerySet[WebhookDelivery]:
        endpoint = _endpoint(self.request, int(self.kwargs["pk"]))
        return WebhookDelivery.objects.filter(endpoint=endpoint)

    @extend_schema(
        operation_id="merchant_webhook_deliveries", responses=s.DeliveryOutputSerializer(many=True)
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class RedeliverApi(APIView):
    permission_classes = [IsMerchantStaff]
    #: A redelivery asked again queues the same try again, which a sender does at most once.
    replays_safely = True

    @extend_schema(
        operation_id="merchant_webhook_redeliver",
        request=None,
        responses={
            200: s.DeliveryOutputSerializer,
            **raises(
                WebhookErrors.DELIVERY_NOT_FOUND,
                MerchantErrors.ROLE_REQUIRED,
                WebhookErrors.ENDPOINT_DISABLED,
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        """Send the delivery again now, with a fresh 24-hour retry window."""
        delivery = WebhookDelivery.objects.filter(pk=pk).select_related("endpoint").first()
        if delivery is None or not _allowed(
            request_user(request), delivery.endpoint.merchant_id, manage=True
        ):
            raise WebhookErrors.DELIVERY_NOT_FOUND()
        return Response(s.DeliveryOutputSerializer(services.redeliver(delivery_id=delivery.pk)).data)
