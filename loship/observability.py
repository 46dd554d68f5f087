"""Request ids: taken from `X-Request-ID` or made up, put on every log line and response."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _request_id_from(request: HttpRequest) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


@sync_and_async_middleware
def request_id_middleware(get_response: Callable[[HttpRequest], Any]) -> Callable[[HttpRequest], Any]:
    """Binds a request id for the duration of the request and echoes it in `X-Request-ID`."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponse:
            token = request_id_var.set(_request_id_from(request))
            try:
                response: HttpResponse = await get_response(request)
                response["X-Request-ID"] = request_id_var.get()
                return response
            finally:
                request_id_var.reset(token)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponse:
        token = request_id_var.set(_request_id_from(request))
        try:
            response: HttpResponse = get_response(request)
            response["X-Request-ID"] = request_id_var.get()
            return response
        finally:
            request_id_var.reset(token)

    return middleware


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True
