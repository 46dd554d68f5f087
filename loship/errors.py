"""One exception family with stable codes, and the one JSON shape every API error takes.

    {"error": {"code": "order_not_cancellable", "message": "...", "fields": {...}}}

Each app declares its codes as `ErrorSpec`s in its `errors.py` and raises them:
`raise OrderErrors.NOT_CANCELLABLE(fields=...)`. Messages follow `Accept-Language` (vi or en).
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from loship.connections import connection_lost, drop_connections
from loship.i18n import Text


class ApplicationError(Exception):
    """A refusal the client can act on: stable `code`, HTTP `status`, message in vi and en."""

    def __init__(
        self,
        *,
        code: str,
        status: int,
        text: Text,
        fields: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.status = status
        self.text = text
        self.fields = fields or {}
        self.extra = extra or {}
        self.params = params or {}
        super().__init__(f"{code}: {text.render('en', **self.params)}")

    @property
    def message(self) -> str:
        return self.text.render(**self.params)


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """A declared error: calling it builds the exception to raise."""

    code: str
    status: int
    text: Text

    def __call__(
        self,
        *,
        fields: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        **params: Any,
    ) -> ApplicationError:
        return ApplicationError(
            code=self.code, status=self.status, text=self.text, fields=fields, extra=extra, params=params
        )


class CommonErrors:
    INVALID = ErrorSpec("invalid", 400, Text(vi="Dữ liệu không hợp lệ.", en="The request is invalid."))
    MALFORMED = ErrorSpec(
        "malformed_request", 400, Text(vi="Không đọc được yêu cầu.", en="The request body could not be read.")
    )
    JSON_TOO_DEEP = ErrorSpec(
        "json_too_deep",
        400,
        Text(
            vi="Dữ liệu JSON lồng nhau quá {max_depth} cấp.",
            en="The JSON body is nested deeper than {max_depth} levels.",
        ),
    )
    CURSOR_INVALID = ErrorSpec(
        "cursor_invalid",
        400,
        Text(vi="Con trỏ trang không hợp lệ.", en="The page cursor is invalid."),
    )
    REQUEST_TOO_LARGE = ErrorSpec(
        "request_too_large", 413, Text(vi="Yêu cầu quá lớn.", en="The request body is too large.")
    )
    NOT_AUTHENTICATED = ErrorSpec(
        "not_authenticated", 401, Text(vi="Vui lòng đăng nhập.", en="Authentication is required.")
    )
    TOKEN_INVALID = ErrorSpec(
        "token_invalid",
        401,
        Text(vi="Phiên đăng nhập không hợp lệ hoặc đã hết hạn.", en="The token is invalid or expired."),
    )
    PERMISSION_DENIED = ErrorSpec(
        "permission_denied", 403, Text(vi="Bạn không có quyền làm việc này.", en="You may not do this.")
    )
    NOT_FOUND = ErrorSpec("not_found", 404, Text(vi="Không tìm thấy.", en="Not found."))
    METHOD_NOT_ALLOWED = ErrorSpec(
        "method_not_allowed", 405, Text(vi="Phương thức không được hỗ trợ.", en="Method not allowed.")
    )
    NOT_ACCEPTABLE = ErrorSpec(
        "not_acceptable", 406, Text(vi="Định dạng không được hỗ trợ.", en="Response format not acceptable.")
    )
    UNSUPPORTED_MEDIA_TYPE = ErrorSpec(
        "unsupported_media_type", 415, Text(vi="Hãy gửi JSON.", en="Send the body as JSON.")
    )
    RATE_LIMITED = ErrorSpec(
        "rate_limited",
        429,
        Text(
            vi="Bạn thao tác quá nhanh. Thử lại sau {retry_after} giây.",
            en="Too many attempts. Try again in {retry_after} seconds.",
        ),
    )
    IDEMPOTENCY_KEY_REQUIRED = ErrorSpec(
        "idempotency_key_required",
        400,
        Text(vi="Thiếu tiêu đề Idempotency-Key.", en="The Idempotency-Key header is required."),
    )
    IDEMPOTENCY_KEY_INVALID = ErrorSpec(
        "idempotency_key_invalid",
        400,
        Text(
            vi="Idempotency-Key phải dài từ 1 đến 100 ký tự.",
            en="An Idempotency-Key is 1 to 100 characters long.",
        ),
    )
    IDEMPOTENCY_KEY_REUSED = ErrorSpec(
        "idempotency_key_reused",
        422,
        Text(
            vi="Idempotency-Key này đã được dùng cho một yêu cầu khác.",
            en="This Idempotency-Key was already used with a different request.",
        ),
    )
    RATE_LIMIT_UNAVAILABLE = ErrorSpec(
        "rate_limit_unavailable",
        503,
        Text(
            vi="Tạm thời chưa thể thực hiện. Thử lại sau {retry_after} giây.",
            en="This is unavailable for a moment. Try again in {retry_after} seconds.",
        ),
    )
    SERVER_ERROR = ErrorSpec(
        "server_error",
        500,
        Text(vi="Đã có lỗi xảy ra. Vui lòng thử lại.", en="Something went wrong. Please retry."),
    )


def error_body(error: ApplicationError) -> dict[str, Any]:
    """The one error shape: `code`, `message` and `fields` (empty when no field is at fault) always
    there; some errors add context beside them (e.g. the order's current `status`)."""
    body: dict[str, Any] = {
        **error.extra,
        "code": error.code,
        "message": error.message,
        "fields": error.fields,
    }
    return {"error": body}


def _flatten_validation(detail: Any) -> Any:
    """DRF's nested ErrorDetail lists, as plain JSON with each message's code kept alongside."""
    if isinstance(detail, dict):
        return {str(key): _flatten_validation(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, drf.ErrorDetail) for item in detail):
            return [{"code": item.code, "message": str(item)} for item in detail]
        return [_flatten_validation(item) for item in detail]
    if isinstance(detail, drf.ErrorDetail):
        return [{"code": detail.code, "message": str(detail)}]
    return detail


def _as_application_error(exc: Exception) -> ApplicationError | None:
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, drf.ValidationError):
        fields = _flatten_validation(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        return CommonErrors.INVALID(fields=fields)
    if isinstance(exc, (InvalidToken, TokenError)):
        return CommonErrors.TOKEN_INVALID()
    if isinstance(exc, drf.AuthenticationFailed):
        return CommonErrors.TOKEN_INVALID()
    if isinstance(exc, drf.NotAuthenticated):
        return CommonErrors.NOT_AUTHENTICATED()
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return CommonErrors.PERMISSION_DENIED()
    if isinstance(exc, (drf.NotFound, Http404)):
        return CommonErrors.NOT_FOUND()
    if isinstance(exc, drf.MethodNotAllowed):
        return CommonErrors.METHOD_NOT_ALLOWED()
    if isinstance(exc, drf.NotAcceptable):
        return CommonErrors.NOT_ACCEPTABLE()
    if isinstance(exc, drf.UnsupportedMediaType):
        return CommonErrors.UNSUPPORTED_MEDIA_TYPE()
    if isinstance(exc, drf.ParseError):
        return CommonErrors.MALFORMED()
    if isinstance(exc, drf.Throttled):
        retry_after = int(getattr(exc, "wait", None) or 1)
        return CommonErrors.RATE_LIMITED(extra={"retry_after": retry_after}, retry_after=retry_after)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler: every refusal in the one shape; a request whose database connection
    was lost under it is run once more when its repeat is safe (`loship.connections`); other unknown
    errors stay 500s."""
    if connection_lost(exc):
        return _once_more(context)
    error = _as_application_error(exc)
    if error is None:
        return None
    set_rollback()
    headers: dict[str, str] = {}
    if "retry_after" in error.extra:
        headers["Retry-After"] = str(error.extra["retry_after"])
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return Response(error_body(error), status=error.status, headers=headers)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _once_more(context: dict[str, Any]) -> Response | None:
    """The view's handler run again on a fresh connection, once, if its repeat answers as the first
    would have; None (the 500 stands) otherwise. The request's parsed body is kept on it."""
    view, request = context["view"], context["request"]
    replayable = (
        request.method in SAFE_METHODS
        or "Idempotency-Key" in request.headers
        or getattr(view, "replays_safely", False)
    )
    if not replayable or getattr(request, "_ran_once_more", False):
        return None
    request._ran_once_more = True
    drop_connections()
    handler = getattr(view, request.method.lower(), view.http_method_not_allowed)
    try:
        response: Response = handler(request, *context["args"], **context["kwargs"])
    except Exception as again:
        response = view.handle_exception(again)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's own 400s (too many query parameters, a bad Host header): the error shape under /api/;
    Django's page for the HTML screens (admin, ops dashboards)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(CommonErrors.MALFORMED()), status=400)
    return defaults.bad_request(request, exception or SuspiciousOperation())


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body(CommonErrors.NOT_FOUND()), status=404)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body(CommonErrors.SERVER_ERROR()), status=500)
