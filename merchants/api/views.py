"""Catalog (customers, no login needed) and merchant-tablet views: validate, call, render."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from loship.errors import ErrorSpec
from loship.pagination import PageNumberPagination
from merchants import favourites, services
from merchants.api import serializers as s
from merchants.cache import cached_list
from merchants.catalog import NearbyQuery, delivery_preview, json_bytes, merchant_page_json, nearby_merchants
from merchants.errors import MerchantErrors
from merchants.models import (
    MANAGING_ROLES,
    ClosedDate,
    FavouriteDish,
    FavouriteMerchant,
    MenuItem,
    Merchant,
    OpeningHours,
    Option,
    StaffMembership,
)
from merchants.selectors import local_today, membership_role, merchants_for_staff
from users.permissions import IsMerchantStaff, request_user


class PublicCatalogMixin:
    """The customers' catalog is the same for everyone, so it never reads the caller's token: no
    user row is loaded (a signed-in customer costs no query), and a stale token is no error here
    (nor documented as one)."""

    authentication_classes: Sequence[type[BaseAuthentication]] = ()


class NearbyMerchantsApi(PublicCatalogMixin, ListAPIView[Merchant]):
    """Merchants near a point: by distance or rating, filtered, searchable without accents."""

    # The rendered page is cached by its exact URL (it links to the next one) for the current minute
    # (open-now is minute-exact) under the catalog version, which any change to any merchant bumps.

    permission_classes = [AllowAny]
    serializer_class = s.NearbyMerchantSerializer
    queryset = Merchant.objects.none()
    filter_backends: list[Any] = []

    @extend_schema(parameters=[s.NearbyInputSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        # Already JSON bytes (cached or just rendered): DRF's renderer would only encode them again.
        now = timezone.now()
        body = cached_list(
            request.build_absolute_uri(), int(now.timestamp() // 60), lambda: self.render_page(request, now)
        )
        return HttpResponse(body, content_type="application/json")

    def render_page(self, request: Request, now: Any) -> bytes:
        params = s.NearbyInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        query = NearbyQuery(
            lat=float(data["lat"]),
            lng=float(data["lng"]),
            radius_m=data["radius_m"],
            sort=data["sort"],
            open_now=data["open_now"],
            cuisines=tuple(data["cuisine"]),
            price_levels=tuple(data["price_level"]),
            q=data["q"],
            at=now,
        )
        page_number = data.get("page") or 1
        page_size = data.get("page_size") or settings.REST_FRAMEWORK["PAGE_SIZE"]
        page = nearby_merchants(query, limit=page_size, offset=(page_number - 1) * page_size)
        if not page.rows and page_number > 1:
            raise NotFound
        results = [s.nearby_row(row, row["matched_dishes"]) for row in page.rows]
        return json_bytes(_page_body(request, page_number, page.has_next, page.total, results))


def _page_body(
    request: Request, number: int, has_next: bool, total: int, results: list[dict[str, Any]]
) -> dict[str, Any]:
    """The shape of DRF's page pagination (`count`, `next`, `previous`, `results`); `count` counts
    at most `merchants.catalog.COUNT_CAP` merchants, `next` is there whenever more follow."""
    url = request.build_absolute_uri()
    previous = None
    if number > 1:
        previous = (
            remove_query_param(url, "page") if number == 2 else replace_query_param(url, "page", number - 1)
        )
    return {
        "count": total,
        "next": replace_query_param(url, "page", number + 1) if has_next else None,
        "previous": previous,
        "results": results,
    }


class MerchantDetailApi(PublicCatalogMixin, APIView):
    """The merchant page with its full menu (cached; open-now is computed on every request)."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.MerchantPageSerializer, **s.MERCHANT_NOT_FOUND_ERRORS})
    def get(self, request: Request, pk: int) -> HttpResponse:
        body = merchant_page_json(pk)
        if body is None:
            raise MerchantErrors.MERCHANT_NOT_FOUND()
        # Already JSON (see merchants.catalog.cache_entry); the shape is pinned to the serializer by tests.
        return HttpResponse(body, content_type="application/json")


class DeliveryPreviewApi(APIView):
    """Distance, delivery fee and ETA from the merchant to a point, priced as an order would be."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[s.PointInputSerializer],
        responses={200: s.DeliveryPreviewOutputSerializer, **s.MERCHANT_NOT_FOUND_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        params = s.PointInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        merchant = (
            Merchant.objects.filter(pk=pk, is_active=True)
            .only("id", "lat", "lng", "delivery_radius_m", "prep_minutes", "min_order_vnd")
            .first()
        )
        if merchant is None:
            raise MerchantErrors.MERCHANT_NOT_FOUND()
        preview = delivery_preview(
            merchant, lat=float(params.validated_data["lat"]), lng=float(params.validated_data["lng"])
        )
        return Response(s.DeliveryPreviewOutputSerializer(preview).data)


# --- Merchant tablet ----------------------------------------------------------------------------


def _workplace(request: Request, pk: int, *, manage: bool = False) -> Merchant:
    """A merchant the caller works for (ops: any); someone else's is a 404. `manage` also requires
    the owner or manager role (403 for plain staff, who may see it)."""
    user = request_user(request)
    merchant = Merchant.objects.filter(pk=pk).first()
    role = "ops" if user.is_ops else membership_role(user, pk)
    if merchant is None or role is None:
        raise MerchantErrors.MERCHANT_NOT_FOUND()
    if manage and role != "ops" and role not in MANAGING_ROLES:
        raise MerchantErrors.ROLE_REQUIRED()
    return merchant


def _scoped(request: Request, queryset: QuerySet[Any], merchant_path: str) -> QuerySet[Any]:
    user = request_user(request)
    if user.is_ops:
        return queryset
    return queryset.filter(**{f"{merchant_path}__in": merchants_for_staff(user)})


def _my_merchant_row(merchant: Merchant, *, role: str | None) -> dict[str, Any]:
    """A `MyMerchantSerializer` row: the merchant and the caller's role there."""
    return {
        "id": merchant.pk,
        "name": merchant.name,
        "slug": merchant.slug,
        "role": role,
        "is_busy": merchant.is_busy,
        "is_active": merchant.is_active,
    }


class MyMerchantsApi(APIView):
    permission_classes = [IsMerchantStaff]
    pagination_class = None

    @extend_schema(responses=s.MyMerchantSerializer(many=True))
    def get(self, request: Request) -> Response:
        memberships = StaffMembership.objects.filter(user=request_user(request)).select_related("merchant")
        rows = [
            _my_merchant_row(m.merchant, role=m.role)
            for m in memberships.order_by("merchant__name", "merchant_id")
        ]
        return Response(s.MyMerchantSerializer(rows, many=True).data)


class MerchantBusyApi(APIView):
    """Switch "busy / temporarily closed" on or off (any staff role)."""

    permission_classes = [IsMerchantStaff]

    @extend_schema(
        request=s.BusyInputSerializer, responses={200: s.MyMerchantSerializer, **s.MERCHANT_NOT_FOUND_ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        merchant = _workplace(request, pk)
        data = s.BusyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        merchant = services.set_busy(merchant_id=merchant.pk, is_busy=data.validated_data["is_busy"])
        role = "ops" if request_user(request).is_ops else membership_role(request_user(request), pk)
        return Response(s.MyMerchantSerializer(_my_merchant_row(merchant, role=role)).data)


def _hours_body(merchant: Merchant) -> dict[str, Any]:
    return {
        "merchant_id": merchant.pk,
        "intervals": list(OpeningHours.objects.filter(merchant=merchant).order_by("weekday", "opens_at")),
        "closed_dates": list(
            ClosedDate.objects.filter(merchant=merchant, date__gte=local_today()).order_by("date")
        ),
    }


class MerchantHoursApi(APIView):
    """Weekly opening hours and upcoming closed dates; replacing them needs the owner or a manager."""

    permission_classes = [IsMerchantStaff]

    @extend_schema(responses={200: s.HoursOutputSerializer, **s.MERCHANT_NOT_FOUND_ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.HoursOutputSerializer(_hours_body(_workplace(request, pk))).data)

    @extend_schema(
        request=s.HoursInputSerializer, responses={200: s.HoursOutputSerializer, **s.HOURS_REPLACE_ERRORS}
    )
    def put(self, request: Request, pk: int) -> Response:
        merchant = _workplace(request, pk, manage=True)
        data = s.HoursInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        closures = data.validated_data.get("closed_dates")
        merchant = services.replace_opening_hours(
            merchant_id=merchant.pk,
            intervals=[services.Interval(**row) for row in data.validated_data["intervals"]],
            closures=None if closures is None else [services.Closure(**row) for row in closures],
        )
        return Response(s.HoursOutputSerializer(_hours_body(merchant)).data)


class AvailabilityApi(APIView):
    """Mark a dish or an option sold out or back in stock (any staff role of its merchant)."""

    permission_classes = [IsMerchantStaff]
    model: type[MenuItem] | type[Option]
    merchant_lookup: str
    not_found: ErrorSpec

    def set_availability(self, pk: int, is_available: bool) -> MenuItem | Option:
        raise NotImplementedError

    @extend_schema(request=s.AvailabilityInputSerializer, responses=s.AvailabilityOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        row = _scoped(request, self.model.objects.filter(pk=pk), self.merchant_lookup).first()
        if row is None:
            raise self.not_found()
        data = s.AvailabilityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = self.set_availability(row.pk, data.validated_data["is_available"])
        return Response(s.AvailabilityOutputSerializer(row).data)


@extend_schema_view(
    post=extend_schema(responses={200: s.AvailabilityOutputSerializer, **s.ITEM_AVAILABILITY_ERRORS})
)
class ItemAvailabilityApi(AvailabilityApi):
    model = MenuItem
    merchant_lookup = "merchant"
    not_found = MerchantErrors.ITEM_NOT_FOUND

    def set_availability(self, pk: int, is_available: bool) -> MenuItem:
        return services.set_item_availability(item_id=pk, is_available=is_available)


@extend_schema_view(
    post=extend_schema(responses={200: s.AvailabilityOutputSerializer, **s.OPTION_AVAILABILITY_ERRORS})
)
class OptionAvailabilityApi(AvailabilityApi):
    model = Option
    merchant_lookup = "group__item__merchant"
    not_found = MerchantErrors.OPTION_NOT_FOUND

    def set_availability(self, pk: int, is_available: bool) -> Option:
        return services.set_option_availability(option_id=pk, is_available=is_available)


# --- Favourites (the signed-in customer's own) ------------------------------------------------------


class FavouriteListApi(APIView):
    """The caller's favourites, newest first: open now, accepting orders, and (given lat/lng) how far."""

    pagination_class = PageNumberPagination  # read by drf-spectacular: the documented body is the page

    def favourites(self, request: Request) -> QuerySet[Any]:
        raise NotImplementedError

    def row(
        self, favourite: Any, *, at: datetime, lat: Decimal | None, lng: Decimal | None
    ) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        params = s.FavouritesInputSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        lat, lng = params.validated_data.get("lat"), params.validated_data.get("lng")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(self.favourites(request), request, view=self)
        now = timezone.now()
        return paginator.get_paginated_response(
            [self.row(row, at=now, lat=lat, lng=lng) for row in page or []]
        )


@extend_schema_view(
    get=extend_schema(
        parameters=[s.FavouritesInputSerializer], responses=s.FavouriteMerchantSerializer(many=True)
    )
)
class FavouriteMerchantListApi(FavouriteListApi):
    def favourites(self, request: Request) -> QuerySet[FavouriteMerchant]:
        return favourites.favourite_merchants(request_user(request))

    def row(
        self, favourite: FavouriteMerchant, *, at: datetime, lat: Decimal | None, lng: Decimal | None
    ) -> dict[str, Any]:
        state = favourites.merchant_state(favourite.merchant, at=at, lat=lat, lng=lng)
        return s.favourite_merchant_row(favourite, state)


@extend_schema_view(
    get=extend_schema(
        parameters=[s.FavouritesInputSerializer], responses=s.FavouriteDishSerializer(many=True)
    )
)
class FavouriteDishListApi(FavouriteListApi):
    def favourites(self, request: Request) -> QuerySet[FavouriteDish]:
        return favourites.favourite_dishes(request_user(request))

    def row(
        self, favourite: FavouriteDish, *, at: datetime, lat: Decimal | None, lng: Decimal | None
    ) -> dict[str, Any]:
        state = favourites.merchant_state(favourite.item.merchant, at=at, lat=lat, lng=lng)
        return s.favourite_dish_row(favourite, state)


class FavouriteMerchantApi(APIView):
    """Save a merchant among the caller's favourites (again is harmless: 200) or remove it (204, also
    when it was not saved)."""

    replays_safely = True

    @extend_schema(
        request=None,
        responses={
            201: s.FavouriteMerchantSerializer,
            200: s.FavouriteMerchantSerializer,
            **s.FAVOURITE_MERCHANT_ERRORS,
        },
    )
    def put(self, request: Request, pk: int) -> Response:
        favourite, created = favourites.save_favourite_merchant(user=request_user(request), merchant_id=pk)
        state = favourites.merchant_state(favourite.merchant, at=timezone.now())
        return Response(
            s.favourite_merchant_row(favourite, state),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        favourites.remove_favourite_merchant(user=request_user(request), merchant_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FavouriteDishApi(APIView):
    """Save a dish among the caller's favourites (again is harmless: 200) or remove it (204, also when
    it was not saved)."""

    replays_safely = True

    @extend_schema(
        request=None,
        responses={201: s.FavouriteDishSerializer, 200: s.FavouriteDishSerializer, **s.FAVOURITE_DISH_ERRORS},
    )
    def put(self, request: Request, pk: int) -> Response:
        favourite, created = favourites.save_favourite_dish(user=request_user(request), item_id=pk)
        state = favourites.merchant_state(favourite.item.merchant, at=timezone.now())
        return Response(
            s.favourite_dish_row(favourite, state),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        favourites.remove_favourite_dish(user=request_user(request), item_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
