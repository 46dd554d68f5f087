"""Driver app API (profile, offers, jobs, earnings, cash owed and its settlements) and the ops
endpoints (dispatch by hand, cash paid in at a hub): validate, call a service or selector, render."""

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from drivers import selectors, services
from drivers.api import serializers as s
from drivers.errors import CashErrors, DriverErrors, JobErrors, LocationErrors, OfferErrors
from drivers.events import offer_payload
from drivers.models import CashSettlement, Job
from loship.api_schema import raises
from loship.errors import CommonErrors
from loship.idempotency.api import IDEMPOTENCY_KEY, IDEMPOTENCY_REFUSALS, once_per_key
from loship.pagination import PageNumberPagination
from orders.errors import OrderErrors, PaymentErrors
from users.errors import UserErrors
from users.permissions import IsDriver, IsOps, request_user


def _jobs_response(jobs: Iterable[Job]) -> Response:
    return Response({"jobs": [selectors.job_view(job) for job in jobs]})


def _job_response(job_id: int) -> Response:
    """The job as it is after a service wrote it (its order's status moves with it)."""
    return Response(selectors.job_view(Job.objects.select_related("order__merchant").get(pk=job_id)))


class DriverApi(APIView):
    permission_classes = [IsDriver]


class ProfileApi(DriverApi):
    @extend_schema(responses=s.DriverProfileOutputSerializer, tags=["driver"])
    def get(self, request: Request) -> Response:
        return Response(selectors.profile_view(services.ensure_profile(user=request_user(request))))

    @extend_schema(
        request=s.DriverProfileInputSerializer, responses=s.DriverProfileOutputSerializer, tags=["driver"]
    )
    def patch(self, request: Request) -> Response:
        data = s.DriverProfileInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        profile = services.update_profile(user=request_user(request), **data.validated_data)
        return Response(selectors.profile_view(profile))


class OnlineApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=s.ShiftInputSerializer,
        responses={200: s.DriverProfileOutputSerializer, **raises(DriverErrors.SHIFT_END_INVALID)},
        tags=["driver"],
        summary="Go online (optionally until a shift end)",
    )
    def post(self, request: Request) -> Response:
        data = s.ShiftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.go_online(
            user=request_user(request), shift_ends_at=data.validated_data["shift_ends_at"]
        )
        return Response(selectors.profile_view(profile))


class OfflineApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=None, responses=s.DriverProfileOutputSerializer, tags=["driver"], summary="Go offline"
    )
    def post(self, request: Request) -> Response:
        return Response(selectors.profile_view(services.go_offline(user=request_user(request))))


class ShiftApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=s.ShiftInputSerializer,
        responses={200: s.DriverProfileOutputSerializer, **raises(DriverErrors.SHIFT_END_INVALID)},
        tags=["driver"],
    )
    def put(self, request: Request) -> Response:
        data = s.ShiftInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.set_shift_end(
            user=request_user(request), shift_ends_at=data.validated_data["shift_ends_at"]
        )
        return Response(selectors.profile_view(profile))


class CurrentJobApi(DriverApi):
    @extend_schema(
        responses=s.CurrentJobOutputSerializer, tags=["driver"], summary="The current bundle's jobs"
    )
    def get(self, request: Request) -> Response:
        return _jobs_response(selectors.active_jobs(request_user(request).pk))


class OfferListApi(DriverApi):
    @extend_schema(responses=s.OffersOutputSerializer, tags=["driver"], summary="Open offers")
    def get(self, request: Request) -> Response:
        offers = selectors.open_offers(request_user(request).pk)
        return Response({"offers": [offer_payload(offer) for offer in offers]})


class OfferAcceptApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=None,
        responses={
            200: s.CurrentJobOutputSerializer,
            **raises(
                OfferErrors.NOT_FOUND,
                OfferErrors.EXPIRED,
                OfferErrors.NOT_OPEN,
                OfferErrors.TAKEN,
                DriverErrors.HAS_ACTIVE_JOB,
                OrderErrors.TRANSITION_NOT_ALLOWED,
                OrderErrors.AWAITING_PAYMENT,
                OrderErrors.DRIVER_ALREADY_ASSIGNED,
            ),
        },
        tags=["driver"],
        summary="Accept",
    )
    def post(self, request: Request, offer_id: int) -> Response:
        user = request_user(request)
        services.accept_offer(driver=user, offer_id=offer_id)
        return _jobs_response(selectors.active_jobs(user.pk).filter(offer_id=offer_id))


class OfferDeclineApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=None,
        responses={200: s.OfferOutputSerializer, **raises(OfferErrors.NOT_FOUND, OfferErrors.NOT_OPEN)},
        tags=["driver"],
        summary="Decline",
    )
    def post(self, request: Request, offer_id: int) -> Response:
        offer = services.decline_offer(driver=request_user(request), offer_id=offer_id)
        return Response(offer_payload(offer))


class JobDetailApi(DriverApi):
    @extend_schema(responses={200: s.JobOutputSerializer, **raises(JobErrors.NOT_FOUND)}, tags=["driver"])
    def get(self, request: Request, job_id: int) -> Response:
        job = (
            Job.objects.select_related("order__merchant")
            .filter(pk=job_id, driver=request_user(request))
            .first()
        )
        if job is None:
            raise JobErrors.NOT_FOUND()
        return Response(selectors.job_view(job))


class JobStepApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=s.JobStepInputSerializer,
        responses={
            200: s.JobOutputSerializer,
            **raises(
                JobErrors.NOT_FOUND,
                JobErrors.TRANSITION_NOT_ALLOWED,
                JobErrors.DELIVERY_CODE_WRONG,
                JobErrors.CASH_MISMATCH,
                OrderErrors.TRANSITION_NOT_ALLOWED,
                OrderErrors.AWAITING_PAYMENT,
                OrderErrors.NOT_ASSIGNED_DRIVER,
            ),
        },
        tags=["driver"],
        summary="Move a job to its next state (arrived, picked up, delivered, failed...)",
    )
    def post(self, request: Request, job_id: int) -> Response:
        data = s.JobStepInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.advance_job(
            driver=request_user(request),
            job_id=job_id,
            to_state=values["to"],
            reason=values["reason"],
            delivery_code=values["delivery_code"],
            cash_collected_vnd=values["cash_collected_vnd"],
        )
        return _job_response(job.pk)


class DriverOrderApi(DriverApi):
    @extend_schema(
        responses=s.DriverOrderOutputSerializer, tags=["driver"], summary="An offered or assigned order"
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = selectors.visible_order(request_user(request).pk, order_id)
        if order is None:
            raise CommonErrors.NOT_FOUND()
        return Response(selectors.driver_order_view(order))


class EarningsApi(DriverApi):
    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Local day; today by default.")],
        responses=s.DailySummaryOutputSerializer,
        tags=["driver"],
        summary="Earnings of one day",
    )
    def get(self, request: Request) -> Response:
        field = s.serializers.DateField()
        raw = request.query_params.get("date")
        day = field.run_validation(raw) if raw else selectors.today()
        return Response(selectors.daily_summary(request_user(request).pk, day))


class CashApi(DriverApi):
    @extend_schema(responses=s.CashOutputSerializer, tags=["driver"], summary="Cash on delivery owed")
    def get(self, request: Request) -> Response:
        user = request_user(request)
        profile = services.ensure_profile(user=user)
        to_collect = sum(job.cash_to_collect_vnd for job in selectors.active_jobs(user.pk))
        recent = selectors.cash_settlements(user.pk)[:RECENT_SETTLEMENTS]
        return Response(
            {
                **selectors.cash_state(profile.cash_balance_vnd),
                "cash_to_collect_vnd": to_collect,
                "recent_settlements": [selectors.settlement_view(settlement) for settlement in recent],
            }
        )


RECENT_SETTLEMENTS = 5
SETTLEMENT_ERRORS = raises(CashErrors.AMOUNT_INVALID, CashErrors.EXCEEDS_BALANCE, UserErrors.NOT_A_DRIVER)


class CashSettlementListApi(DriverApi):
    @extend_schema(
        parameters=[s.PageInputSerializer],
        responses={200: s.CashSettlementPageSerializer, **raises(CommonErrors.NOT_FOUND)},
        tags=["driver"],
        summary="The driver's cash settlements, newest first (a page past the last is a 404)",
    )
    def get(self, request: Request) -> Response:
        s.PageInputSerializer(data=request.query_params.dict()).is_valid(raise_exception=True)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.cash_settlements(request_user(request).pk), request, self
        )
        return paginator.get_paginated_response([selectors.settlement_view(row) for row in page or []])


class CashTopUpApi(DriverApi):
    @extend_schema(
        request=s.TopUpInputSerializer,
        responses={
            201: s.CashSettlementOutputSerializer,
            **SETTLEMENT_ERRORS,
            **raises(PaymentErrors.GATEWAY_UNAVAILABLE),
        },
        tags=["driver"],
        summary="Pay cash owed by e-wallet (the balance falls when the payment is confirmed)",
    )
    def post(self, request: Request) -> Response:
        data = s.TopUpInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        settlement = services.start_cash_topup(
            driver=request_user(request), amount_vnd=data.validated_data["amount_vnd"]
        )
        return Response(selectors.settlement_view(settlement), status=status.HTTP_201_CREATED)


class LocationBatchApi(DriverApi):
    replays_safely = True

    @extend_schema(
        request=s.LocationBatchSchemaSerializer,
        responses={200: s.LocationReportOutputSerializer, **raises(LocationErrors.COORDINATES_INVALID)},
        tags=["driver"],
        summary="Batched location fixes",
        description="Each fix: lat, lng, timestamp (ms), heading, speed, accuracy. Invalid fixes are "
        "rejected one by one with a code; too old or out-of-order ones are ignored. A batch where every "
        "fix is invalid is a 400 `location_coordinates_invalid`.",
    )
    def post(self, request: Request) -> Response:
        data = s.LocationBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        services.ensure_profile(user=user)
        fixes = data.validated_data["fixes"]
        report = services.record_location_fixes(driver_id=user.pk, fixes=fixes)
        if len(report.rejected) == len(fixes):
            raise LocationErrors.COORDINATES_INVALID(
                fields={"fixes": {str(item["index"]): [item["code"]] for item in report.rejected}}
            )
        return Response(report.as_dict())


# --- Ops -----------------------------------------------------------------------------------------


class OpsAssignApi(APIView):
    replays_safely = True
    permission_classes = [IsOps]

    @extend_schema(
        request=s.OpsAssignInputSerializer,
        responses={
            200: s.CurrentJobOutputSerializer,
            **raises(
                UserErrors.NOT_A_DRIVER,
                JobErrors.ORDER_NOT_DISPATCHABLE,
                DriverErrors.HAS_ACTIVE_JOB,
                OfferErrors.TAKEN,
                OrderErrors.TRANSITION_NOT_ALLOWED,
                OrderErrors.AWAITING_PAYMENT,
                OrderErrors.DRIVER_ALREADY_ASSIGNED,
                CashErrors.OVER_CASH_LIMIT,
            ),
        },
        tags=["ops"],
        summary="Assign",
    )
    def post(self, request: Request) -> Response:
        data = s.OpsAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.assign_by_ops(actor=request_user(request), **data.validated_data)
        return _jobs_response(Job.objects.select_related("order__merchant").filter(offer=offer))


class OpsUnassignApi(APIView):
    replays_safely = True
    permission_classes = [IsOps]

    @extend_schema(
        request=s.OpsUnassignInputSerializer,
        responses={
            200: s.JobOutputSerializer,
            **raises(
                JobErrors.NOT_FOUND,
                JobErrors.TRANSITION_NOT_ALLOWED,
                OrderErrors.TRANSITION_NOT_ALLOWED,
                OrderErrors.NOT_ASSIGNED_DRIVER,
            ),
        },
        tags=["ops"],
        summary="Unassign",
    )
    def post(self, request: Request) -> Response:
        data = s.OpsUnassignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.unassign_by_ops(actor=request_user(request), **data.validated_data)
        return _job_response(job.pk)


class OpsHubSettlementApi(APIView):
    """Ops record cash a driver paid in at a hub; the driver's balance falls at once. Each call is a
    new payment, so a retry needs the same `Idempotency-Key` to be answered without a second one."""

    permission_classes = [IsOps]

    @extend_schema(
        request=s.HubSettlementInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.CashSettlementOutputSerializer,
            200: s.CashSettlementOutputSerializer,
            **SETTLEMENT_ERRORS,
            **raises(*IDEMPOTENCY_REFUSALS),
        },
        tags=["ops"],
        summary="Record cash a driver paid in at a hub",
    )
    def post(self, request: Request, driver_id: int) -> Response:
        data = s.HubSettlementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        done = once_per_key(
            request,
            lambda: services.settle_cash_at_hub(
                driver_id=driver_id, actor=request_user(request), **data.validated_data
            ).pk,
        )
        assert done.result_id is not None, "a settlement is recorded or the service refused"
        settlement = CashSettlement.objects.get(pk=done.result_id)
        return Response(
            selectors.settlement_view(settlement),
            status=status.HTTP_200_OK if done.replayed else status.HTTP_201_CREATED,
        )
