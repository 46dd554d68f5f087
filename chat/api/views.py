"""Order chat API: the chat's state, its history (cursor pages, newest first), send, read receipts.

Only the order's customer and its current driver get an answer; for anyone else the order is a 404
(chat/selectors.py). Live delivery is over the order's stream and the driver's socket.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.api import serializers as s
from chat.errors import ChatErrors
from chat.models import ChatMessage, ChatThread
from loship.api_schema import raises
from loship.idempotency.api import IDEMPOTENCY_KEY, IDEMPOTENCY_REFUSALS, once_per_key
from loship.pagination import CursorPagination
from users.permissions import request_user


class MessagePagination(CursorPagination):
    ordering = "-seq"
    page_size = 30


def _messages(messages: list[ChatMessage], thread: ChatThread) -> list[dict[str, Any]]:
    return [
        {
            **selectors.message_body(message),
            "read": message.seq <= thread.read_seq(selectors.other_role(message.sender_role)),
        }
        for message in messages
    ]


class ChatApi(APIView):
    @extend_schema(operation_id="order_chat", responses=s.ChatOutputSerializer)
    def get(self, request: Request, pk: int) -> Response:
        order, role = selectors.participant_order(user=request_user(request), order_id=pk)
        return Response(selectors.chat_view(order=order, role=role, now=timezone.now()).body())


class ChatMessageListApi(APIView):
    @extend_schema(
        operation_id="order_chat_messages",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int)],
        responses=s.MessageCursorPageSerializer,
    )
    def get(self, request: Request, pk: int) -> Response:
        order, _ = selectors.participant_order(user=request_user(request), order_id=pk)
        thread = selectors.thread_of(order)
        paginator = MessagePagination()
        page = paginator.paginate_queryset(selectors.messages_of(order), request, view=self)
        return paginator.get_paginated_response(_messages(page or [], thread))

    @extend_schema(
        operation_id="order_chat_send",
        request=s.SendInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: s.MessageOutputSerializer,
            200: s.MessageOutputSerializer,
            **raises(
                ChatErrors.MESSAGE_EMPTY,
                ChatErrors.MESSAGE_TOO_LONG,
                ChatErrors.NOT_OPEN,
                ChatErrors.READ_ONLY,
                ChatErrors.RATE_LIMITED,
                *IDEMPOTENCY_REFUSALS,
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.SendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        sent = once_per_key(
            request,
            lambda: services.send_message(order_id=pk, sender=user, body=data.validated_data["body"]).pk,
        )
        message = get_object_or_404(ChatMessage.objects.select_related("thread"), pk=sent.result_id)
        return Response(
            _messages([message], message.thread)[0],
            status=status.HTTP_200_OK if sent.replayed else status.HTTP_201_CREATED,
        )


class ChatReadApi(APIView):
    #: A receipt asked again finds the pointer already there and writes nothing.
    replays_safely = True

    @extend_schema(
        operation_id="order_chat_read",
        request=s.ReadInputSerializer,
        responses={200: s.ChatOutputSerializer, **raises(ChatErrors.READ_SEQ_INVALID)},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = s.ReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request_user(request)
        services.mark_read(order_id=pk, reader=user, seq=data.validated_data["seq"])
        order, role = selectors.participant_order(user=user, order_id=pk)
        return Response(selectors.chat_view(order=order, role=role, now=timezone.now()).body())
