"""The baseline of bench/orders_bench.py: a plain DRF endpoint inserting one row, under the same
authentication, middleware and database as order placement. Mounted only when ORDERS_BENCH_ENDPOINT is set."""

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import PlacementKey
from users.api.serializers import StrictSerializer


class RawInsertInputSerializer(StrictSerializer):
    note = serializers.CharField(max_length=64)


class RawInsertOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()


class RawInsertBenchApi(APIView):
    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        data = RawInsertInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = PlacementKey.objects.create(
            customer_id=int(request.user.pk or 0),
            key=f"bench-{uuid.uuid4()}",
            request_hash=data.validated_data["note"],
        )
        return Response(RawInsertOutputSerializer({"id": row.pk}).data, status=status.HTTP_201_CREATED)
