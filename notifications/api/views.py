"""In-app inbox and notification preferences of the signed-in user."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loship.errors import CommonErrors
from loship.pagination import CursorPagination
from notifications import services
from notifications.api import serializers as s
from notifications.models import Notification
from users.models import User


def _current_user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


class InboxPagination(CursorPagination):
    ordering = "-created_at"  # id breaks ties through the cursor's offset


class NotificationListApi(ListAPIView[Notification]):
    """The user's inbox, newest first (cursor pages); `?unread=true` for unread only."""

    serializer_class = s.NotificationOutputSerializer
    pagination_class = InboxPagination
    filter_backends: list[type] = []

    def get_queryset(self) -> QuerySet[Notification]:
        notifications = Notification.objects.filter(user=_current_user(self.request))
        if self.request.query_params.get("unread") in ("1", "true"):
            notifications = notifications.filter(read_at__isnull=True)
        return notifications

    @extend_schema(
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread notifications.")]
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class UnreadCountApi(APIView):
    @extend_schema(responses=s.UnreadCountOutputSerializer)
    def get(self, request: Request) -> Response:
        unread = Notification.objects.filter(user=_current_user(request), read_at__isnull=True).count()
        return Response({"unread": unread})


class MarkReadApi(APIView):
    @extend_schema(request=None, responses=s.NotificationOutputSerializer)
    def post(self, request: Request, pk: int) -> Response:
        try:
            notification = services.mark_read(user=_current_user(request), notification_id=pk)
        except Notification.DoesNotExist:
            raise CommonErrors.NOT_FOUND() from None
        return Response(s.NotificationOutputSerializer(notification).data)


class MarkAllReadApi(APIView):
    @extend_schema(request=None, responses=s.MarkAllReadOutputSerializer)
    def post(self, request: Request) -> Response:
        return Response({"marked": services.mark_all_read(user=_current_user(request))})


class PreferenceApi(APIView):
    @extend_schema(responses=s.PreferenceOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.PreferenceOutputSerializer(services.preferences_for(_current_user(request))).data)

    @extend_schema(request=s.PreferenceInputSerializer, responses=s.PreferenceOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = s.PreferenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        preference = services.update_preferences(user=_current_user(request), **data.validated_data)
        return Response(s.PreferenceOutputSerializer(preference).data)
