"""The baseline of bench/merchants_bench.py: a plain DRF list of 20 merchant rows (ModelSerializer,
page pagination), under the same middleware, authentication and database as the catalog views.
Mounted only when MERCHANTS_BENCH_ENDPOINT is set."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from merchants.models import Merchant


class RawMerchantSerializer(serializers.ModelSerializer[Merchant]):
    class Meta:
        model = Merchant
        fields = ["id", "name", "slug", "address", "lat", "lng", "price_level", "rating_avg", "is_busy"]


class RawListBenchApi(ListAPIView[Merchant]):
    permission_classes = [AllowAny]
    serializer_class = RawMerchantSerializer
    queryset = Merchant.objects.order_by("id")
    filter_backends: list[Any] = []

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
