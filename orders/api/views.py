"""Orders API: customers (quote, place, list, detail, cancel, reorder, rate, pay, tip), merchant staff
(incoming orders and their actions), ops (search, cancel, delivery failed) and the gateway webhook.

Every object is looked up inside the caller's own queryset, so another customer's or another
merchant's order is a 404.
"""

from contextlib import suppress
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loship.db_router import replica_reads
from loship.errors import ApplicationError, CommonErrors
from loship.idempotency.api import IDEMPOTENCY_KEY, idempotency_key, once_per_key
from loship.idempotency.services import MAX_KEY_LENGTH, request_hash
from loship.pagination import CursorPagination, PageNumberPagination
from merchants.models import Merchant
from merchants.selectors import merchants_for_staff
from orders import selectors, services
from orders.api import serializers as s
from orders.errors import CartErrors, PaymentErrors, TipErrors
from orders.gateways import WebhookMalformed, WebhookNotice, WebhookSignatureInvalid, get_gateway
from orders.gateways.routes import handler_for
from orders.models import ActorRole, Order, PaymentMethod, Tip
from orders.services.placement import Cart
from orders.services.settlement import refundable_vnd, refunded_after_delivery_vnd
from orders.statements import current_month, merchant_statement
from users.models import Address
from users.permissions import IsMerchantStaff, IsOps, request_user


def _cart(request: Request, data: dict[str, Any]) -> Cart:
    if "address_id" in data:
        address = get_object_or_404(Address, pk=data["address_id"], user=request_user(request))
        return s.cart_from(
            data,
            lat=address.lat,
            lng=address.lng,
            address=data["delivery_address"] or address.text,
            note=data["delivery_note"] or address.note,
        )
    return s.cart_from(
        data,
        lat=data["delivery_lat"],
        lng=data["delivery_lng"],
        address=data["delivery_address"],
        note=data["delivery_note"],
    )


def _detail(order: Order, *, for_customer: bool = False) -> dict[str, Any]:
    detail = selectors.order_detail(order.pk)
    assert detail is not None, "the caller just read or wrote this order"
    return s.order_detail_body(
        detail.order, lines=detail.lines, events=detail.events, for_customer=for_customer
    )


# --- Customer ------------------------------------------------------------------------------------


class QuoteApi(APIView):
    @extend_schema(request=s.CartInputSerializer, responses={200: s.QuoteOutputSerializer, **s.QUOTE_ERRORS})
    def post(self, request: Request) -> Response:
        data = s.CartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.quote_cart(customer=request_user(request), cart=_cart(request, data.validated_data))
        return Response(s.QuoteOutputSerializer(s.quote_body(quote)).data)


class OrderListApi(APIView):
    @extend_schema(
        operation_id="orders_list",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=s.OrderCursorPageSerializer,
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        orders = selectors.order_summaries_for_customer(user)
        paginator = CursorPagination()
        # The history may lag by seconds, except for a customer who just ordered (loship.db_router).
        with replica_reads(user=user):
            page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response([s.order_summary_body(row) for row in page or []])

    @extend_schema(
        operation_id="orders_place",
        request=s.CartInputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
        responses={201: s.OrderDetailOutputSerializer, 200: s.OrderDetailOutputSerializer, **s.PLACE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise CommonErrors.IDEMPOTENCY_KEY_REQUIRED()
        data = s.CartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        placement = services.checkout(
            customer=request_user(request),
            cart=_cart(request, data.validated_data),
            idempotency_key=key,
            body_hash=request_hash(dict(request.data)),
            tip_vnd=data.validated_data.get("tip_vnd"),
        )
        if placement.lines:
            body = s.order_detail_body(
                placement.order, lines=placement.lines, events=placement.events, for_customer=True
            )
        else:
            body = _detail(placement.order, for_customer=True)
        return Response(body, status=status.HTTP_201_CREATED if placement.created else status.HTTP_200_OK)


class OrderDetailApi(APIView):
    @extend_schema(responses=s.OrderDetailOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        detail = selectors.order_detail(pk)
        if detail is None or detail.order.customer_id != request_user(request).pk:
            raise Http404
        return Response(
            s.order_detail_body(detail.order, lines=detail.lines, events=detail.events, for_customer=True)
        )


class OrderCancelApi(APIView):
    replays_safely = True

    @extend_schema(
        request=s.CancelInputSerializer, responses={200: s.OrderDetailOutputSerializer, **s.CANCEL_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk, customer=request_user(request))
        data = s.CancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.cancel_order(
            order_id=order.pk,
            actor=request_user(request),
            by=ActorRole.CUSTOMER,
            reason=data.validated_data["reason"],
        )
        return Response(_detail(order, for_customer=True))


class OrderPaymentApi(APIView):
    """Open the e-wallet payment of an order awaiting it (again if it is already open): returns where to
    pay; 409 `order_not_payable` once it is paid, cancelled or expired, or for a cash order."""

    @extend_schema(request=None, responses={200: s.OrderDetailOutputSerializer, **s.PAYMENT_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk, customer=request_user(request))
        if order.payment_method != PaymentMethod.EWALLET:
            raise PaymentErrors.NOT_PAYABLE()
        services.start_payment(order_id=order.pk)
        return Response(_detail(order, for_customer=True))


class OrderTipApi(APIView):
    """The customer's tip for the driver: given once per order (the same amount again answers the
    same tip and reopens its payment if the gateway was down); paid by e-wallet at `pay_url`."""

    replays_safely = True

    @extend_schema(responses={200: s.TipOutputSerializer, **s.TIP_READ_ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk, customer=request_user(request))
        tip = Tip.objects.filter(order=order).first()
        if tip is None:
            raise TipErrors.NOT_FOUND()
        return Response(s.TipOutputSerializer(tip).data)

    @extend_schema(
        request=s.TipInputSerializer,
        responses={201: s.TipOutputSerializer, 200: s.TipOutputSerializer, **s.TIP_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk, customer=request_user(request))
        data = s.TipInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tip, created = services.give_tip(
            customer=request_user(request), order_id=order.pk, amount_vnd=data.validated_data["amount_vnd"]
        )
        with suppress(ApplicationError):
            tip = services.start_tip_payment(tip_id=tip.pk)
        return Response(
            s.TipOutputSerializer(tip).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ReorderApi(APIView):
    """The same items again, re-validated and re-priced against today's menu (nothing is placed)."""

    @extend_schema(request=None, responses={200: s.ReorderOutputSerializer, **s.REORDER_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(
            Order.objects.prefetch_related("lines"), pk=pk, customer=request_user(request)
        )
        cart = services.reorder_cart(order=order)
        quote = services.quote_cart(customer=request_user(request), cart=cart)
        cart_body = {
            "merchant_id": cart.merchant_id,
            "lines": [
                {"item_id": line.item_id, "quantity": line.quantity, "option_ids": list(line.option_ids),
                 "note": line.note}
                for line in cart.lines
            ],
            "delivery_lat": str(cart.delivery_lat),
            "delivery_lng": str(cart.delivery_lng),
            "delivery_address": cart.delivery_address,
            "delivery_note": cart.delivery_note,
            "payment_method": cart.payment_method,
        }  # fmt: skip
        return Response({"cart": cart_body, "quote": s.QuoteOutputSerializer(s.quote_body(quote)).data})


class OrderRatingApi(APIView):
    @extend_schema(
        request=s.RatingInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: s.OrderDetailOutputSerializer, 200: s.OrderDetailOutputSerializer, **s.RATING_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk, customer=request_user(request))
        data = s.RatingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rated = once_per_key(
            request,
            lambda: services.rate_order(
                order=order, customer=request_user(request), **data.validated_data
            ).pk,
        )
        return Response(
            _detail(order, for_customer=True),
            status=status.HTTP_200_OK if rated.replayed else status.HTTP_201_CREATED,
        )


# --- Merchant staff ------------------------------------------------------------------------------


def _merchant_orders(request: Request) -> QuerySet[Order]:
    return selectors.orders_for_merchant_staff(request_user(request))


class MerchantOrderListApi(APIView):
    permission_classes = [IsMerchantStaff]
    pagination_class = PageNumberPagination  # read by drf-spectacular: the documented body is the page

    @extend_schema(
        parameters=[s.MerchantOrderFilterSerializer], responses=s.OrderSummaryOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = s.MerchantOrderFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        orders = _merchant_orders(request).select_related("merchant")
        if "status" in filters.validated_data:
            orders = orders.filter(status=filters.validated_data["status"])
        if "merchant" in filters.validated_data:
            orders = orders.filter(merchant_id=filters.validated_data["merchant"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders.order_by("-created_at", "-id"), request, view=self)
        return paginator.get_paginated_response(s.OrderSummaryOutputSerializer(page, many=True).data)


class MerchantUpcomingOrdersApi(APIView):
    """Scheduled orders of the caller's merchants not yet released to them, the soonest slot first."""

    permission_classes = [IsMerchantStaff]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[s.UpcomingOrderFilterSerializer], responses=s.UpcomingOrderOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = s.UpcomingOrderFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        orders = selectors.upcoming_orders_for_merchant_staff(request_user(request))
        if "merchant" in filters.validated_data:
            orders = orders.filter(merchant_id=filters.validated_data["merchant"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(s.UpcomingOrderOutputSerializer(page, many=True).data)


class MerchantOrderDetailApi(APIView):
    permission_classes = [IsMerchantStaff]

    @extend_schema(responses=s.OrderDetailOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(_merchant_orders(request), pk=pk)
        return Response(_detail(order))


class MerchantStatementApi(APIView):
    """A merchant's statement over a period (this month by default): one line per order, the totals
    and the net payout, read from the ledger. Staff of another merchant get a 404."""

    permission_classes = [IsMerchantStaff]

    @extend_schema(
        parameters=[s.StatementPeriodSerializer],
        responses={200: s.StatementSerializer, **s.STATEMENT_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request_user(request)
        merchants = Merchant.objects.all() if user.is_ops else merchants_for_staff(user)
        merchant = merchants.filter(pk=pk).first()
        if merchant is None:
            raise CartErrors.MERCHANT_NOT_FOUND()
        period = s.StatementPeriodSerializer(data=request.query_params.dict())
        period.is_valid(raise_exception=True)
        this_month = current_month()
        start = period.validated_data.get("start", this_month[0])
        end = period.validated_data.get("end", this_month[1])
        return Response(s.StatementSerializer(merchant_statement(merchant, start=start, end=end)).data)


def _merchant_order(request: Request, pk: int) -> Order:
    return get_object_or_404(_merchant_orders(request), pk=pk)


class MerchantOrderActionApi(APIView):
    """accept (prep_minutes), reject (reason), preparing, ready, cancel (reason)."""

    replays_safely = True

    # The docstring above is the OpenAPI description of every action below (they have none of their own).
    permission_classes = [IsMerchantStaff]


class MerchantAcceptApi(MerchantOrderActionApi):
    @extend_schema(
        request=s.AcceptInputSerializer, responses={200: s.OrderDetailOutputSerializer, **s.ACCEPT_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _merchant_order(request, pk)
        data = s.AcceptInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.accept_order(
            order_id=order.pk, actor=request_user(request), prep_minutes=data.validated_data["prep_minutes"]
        )
        return Response(_detail(order))


class MerchantRejectApi(MerchantOrderActionApi):
    @extend_schema(
        request=s.ReasonInputSerializer, responses={200: s.OrderDetailOutputSerializer, **s.REJECT_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _merchant_order(request, pk)
        data = s.ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.reject_order(
            order_id=order.pk, actor=request_user(request), reason=data.validated_data["reason"]
        )
        return Response(_detail(order))


class MerchantCancelApi(MerchantOrderActionApi):
    @extend_schema(
        request=s.ReasonInputSerializer, responses={200: s.OrderDetailOutputSerializer, **s.CANCEL_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        order = _merchant_order(request, pk)
        data = s.ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.cancel_order(
            order_id=order.pk,
            actor=request_user(request),
            by=ActorRole.MERCHANT,
            reason=data.validated_data["reason"],
        )
        return Response(_detail(order))


class MerchantPreparingApi(MerchantOrderActionApi):
    @extend_schema(request=None, responses={200: s.OrderDetailOutputSerializer, **s.BODYLESS_STEP_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        order = _merchant_order(request, pk)
        s.CancelInputSerializer(data=request.data or {}).is_valid(raise_exception=True)
        order = services.mark_preparing(order_id=order.pk, actor=request_user(request))
        return Response(_detail(order))


class MerchantReadyApi(MerchantOrderActionApi):
    @extend_schema(request=None, responses={200: s.OrderDetailOutputSerializer, **s.BODYLESS_STEP_ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        order = _merchant_order(request, pk)
        s.CancelInputSerializer(data=request.data or {}).is_valid(raise_exception=True)
        order = services.mark_ready(order_id=order.pk, actor=request_user(request))
        return Response(_detail(order))


# --- Ops -----------------------------------------------------------------------------------------


class OpsOrderListApi(APIView):
    permission_classes = [IsOps]
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[s.OpsOrderFilterSerializer], responses=s.OrderSummaryOutputSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = s.OpsOrderFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        criteria = {k: v for k, v in filters.validated_data.items() if k not in ("page", "page_size")}
        if "merchant" in criteria:
            criteria["merchant_id"] = criteria.pop("merchant")
        orders = selectors.ops_order_search(**criteria).order_by("-created_at", "-id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(s.OrderSummaryOutputSerializer(page, many=True).data)


class OpsOrderDetailApi(APIView):
    permission_classes = [IsOps]

    @extend_schema(responses=s.OrderDetailOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(get_object_or_404(Order, pk=pk)))


class OpsOrderCancelApi(APIView):
    replays_safely = True
    permission_classes = [IsOps]

    @extend_schema(
        request=s.ReasonInputSerializer, responses={200: s.OrderDetailOutputSerializer, **s.CANCEL_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk)
        data = s.ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.cancel_order(
            order_id=order.pk,
            actor=request_user(request),
            by=ActorRole.OPS,
            reason=data.validated_data["reason"],
        )
        return Response(_detail(order))


class OpsRefundAfterDeliveryApi(APIView):
    """Give part or all of a delivered order's food back to the customer, at the merchant's charge.
    Two refunds are two requests: the Idempotency-Key makes a retried request the same refund."""

    permission_classes = [IsOps]

    @extend_schema(
        request=s.RefundAfterDeliveryInputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=True)],
        responses={
            201: s.RefundAfterDeliveryOutputSerializer,
            200: s.RefundAfterDeliveryOutputSerializer,
            **s.REFUND_AFTER_DELIVERY_ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        if idempotency_key(request) is None:
            raise CommonErrors.IDEMPOTENCY_KEY_REQUIRED()
        order = get_object_or_404(Order, pk=pk)
        data = s.RefundAfterDeliveryInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refunded = once_per_key(
            request,
            lambda: services.refund_delivered_order(
                order_id=order.pk, actor=request_user(request), **data.validated_data
            ).pk,
        )
        body = {
            "order_id": order.pk,
            "refunded_vnd": refunded_after_delivery_vnd(order),
            "refundable_vnd": refundable_vnd(order),
        }
        return Response(
            s.RefundAfterDeliveryOutputSerializer(body).data,
            status=status.HTTP_200_OK if refunded.replayed else status.HTTP_201_CREATED,
        )


class OpsDeliveryFailedApi(APIView):
    replays_safely = True
    permission_classes = [IsOps]

    @extend_schema(
        request=s.ReasonInputSerializer,
        responses={200: s.OrderDetailOutputSerializer, **s.DELIVERY_FAILED_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        order = get_object_or_404(Order, pk=pk)
        data = s.ReasonInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.mark_delivery_failed(
            order_id=order.pk, actor=request_user(request), reason=data.validated_data["reason"]
        )
        return Response(_detail(order))


# --- Gateway webhook -----------------------------------------------------------------------------


def _verified_notice(request: Request, provider: str) -> tuple[WebhookNotice, str]:
    """The provider's verified notification and the provider's name, or the one error shape
    (`webhook_signature_invalid` 401, `webhook_malformed` 400) with nothing written."""
    gateway = get_gateway(provider)
    try:
        return gateway.parse_webhook(body=request.body, headers=request.headers), gateway.name
    except WebhookSignatureInvalid:
        raise PaymentErrors.SIGNATURE_INVALID() from None
    except WebhookMalformed:
        raise PaymentErrors.WEBHOOK_MALFORMED() from None


def _apply_notice(notice: WebhookNotice, provider: str) -> str:
    """Apply a verified notice once: a tip's or a top-up's goes to the handler its prefix names, an
    order's payment to `handle_webhook`. Answers the paid thing's status."""
    handler = handler_for(notice.merchant_ref)
    if handler is not None:
        return handler(notice, provider)
    return services.handle_webhook(notice=notice, provider=provider).status


class SandboxWebhookApi(APIView):
    """The sandbox provider's payment notifications: HMAC-signed; a replay has no second effect. An
    order's payment is applied here; a tip's or a top-up's goes to the handler its prefix names."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=None, responses={200: s.WebhookAckSerializer, **s.WEBHOOK_ERRORS})
    def post(self, request: Request) -> Response:
        notice, provider = _verified_notice(request, "sandbox")
        return Response({"status": _apply_notice(notice, provider)})


class MomoIpnApi(APIView):
    """MoMo's IPN (instant payment notification): public, but only a body signed with our partner's
    secret key is read. Applied once (MoMo retries; a duplicate changes nothing); an amount that is not
    the payment's is refused and recorded. Answered with 204, as MoMo asks; a result MoMo still waits
    on (the customer has not confirmed yet) is acknowledged and changes nothing."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(request=None, responses={204: None, **s.WEBHOOK_ERRORS})
    def post(self, request: Request) -> Response:
        notice, provider = _verified_notice(request, "momo")
        if notice.settled:
            _apply_notice(notice, provider)
        return Response(status=status.HTTP_204_NO_CONTENT)
