"""The error answers of the OpenAPI schema: the one error shape as a component, and the `AutoSchema`
(REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS) that documents the refusals every operation can answer.

Most refusals follow from the view itself, so no view lists them:

- 400 `invalid`, `malformed_request`, `json_too_deep` and 413 `request_too_large` when the operation
  reads a body; 400 `invalid` when it takes query parameters besides the paginator's;
- 401 `token_invalid` when the view authenticates (a bad bearer token), and `not_authenticated` when
  its permissions turn an anonymous caller away;
- 403 with the code a permission class refuses a signed-in caller without roles with (a driver-only
  endpoint says `not_a_driver`, an ops one `permission_denied`); both are found by asking the
  permission classes themselves, so a change to them shows in the schema;
- 404 `not_found` when the path names an object, unless the operation declares its own 404 codes
  (`job_not_found`...); and whatever the paginator answers for a page past the end or a bad cursor;
- 429 `rate_limited` when the view is throttled.

What an operation's services refuse with (409 state conflicts, 422, 503...) it declares beside its
success answer: `@extend_schema(responses={200: OrderOut, **raises(OrderErrors.NOT_CANCELLABLE)})`.
Each status lists its codes with their English text.
"""

from collections import defaultdict
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, QueryDict
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework_simplejwt.views import TokenViewBase

from loship.errors import ApplicationError, CommonErrors, ErrorSpec
from loship.errors import _as_application_error as as_application_error
from loship.pagination import CursorPagination


class CachedUserJWTScheme(SimpleJWTScheme):
    """The API's authentication (users/authentication.py) is simplejwt's bearer token, documented
    as drf-spectacular documents simplejwt's own class."""

    target_class = "users.authentication.CachedUserJWTAuthentication"


# --- The error shape -----------------------------------------------------------------------------

FIELD_ERRORS_COMPONENT = "FieldErrors"
_FIELD_ERRORS_REF = {"$ref": f"#/components/schemas/{FIELD_ERRORS_COMPONENT}"}
#: What is wrong with each input field, by field name. A field's entry is a list of messages (each
#: `{code, message}` for validation, or plain text), or the same mapping again for a nested object
#: (list items by index).
FIELD_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "What is wrong with each input field, by name: a list of messages (`{code, message}` "
    "or plain text), or the same mapping again for a nested object or list (items by index).",
    "additionalProperties": {
        "anyOf": [
            {
                "type": "array",
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                            "required": ["code", "message"],
                        },
                        {"type": "string"},
                        _FIELD_ERRORS_REF,
                    ]
                },
            },
            _FIELD_ERRORS_REF,
        ]
    },
}


@extend_schema_field(_FIELD_ERRORS_REF)
class FieldErrorsField(serializers.DictField):
    pass


class ErrorSerializer(serializers.Serializer):
    """A refusal: a stable `code` to act on, a `message` to show, the input `fields` at fault, and for
    some codes context beside them (the order's current `status`, when to retry...)."""

    code = serializers.CharField(
        help_text="Stable, machine-readable: branch on it (`order_not_cancellable`, `invalid`...). The "
        "codes each operation can answer are listed with its responses."
    )
    message = serializers.CharField(help_text="For a person, in the request's language (vi or en).")
    # A field named like `Serializer.fields`: the serializer metaclass takes it off the class.
    fields = FieldErrorsField(help_text="Empty when no input field is at fault.")  # type: ignore[assignment]
    status = serializers.CharField(required=False, help_text="The order's current status (order conflicts).")
    payment_status = serializers.CharField(required=False, help_text="The order's payment status.")
    state = serializers.CharField(required=False, help_text="The job's current state (job conflicts).")
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait before retrying.")
    locked_until = serializers.DateTimeField(required=False, help_text="When a locked login opens again.")
    merchant_id = serializers.IntegerField(required=False)
    line = serializers.IntegerField(required=False, help_text="The cart line at fault (from 0).")
    item_id = serializers.IntegerField(required=False)
    option_id = serializers.IntegerField(required=False)
    group_id = serializers.IntegerField(required=False)
    distance_m = serializers.IntegerField(required=False)
    delivery_radius_m = serializers.IntegerField(required=False)
    min_subtotal_vnd = serializers.IntegerField(required=False)
    earliest_slot = serializers.DateTimeField(required=False, help_text="The soonest slot to order.")
    max_days = serializers.IntegerField(required=False, help_text="How many days ahead a slot may be.")


class ErrorBodySerializer(serializers.Serializer):
    """Every 4xx and 5xx of the API: `{"error": {...}}`."""

    error = ErrorSerializer()


# --- Declaring an operation's own refusals -------------------------------------------------------

#: What reading a JSON body can be refused with (see loship.parsers), before any validation.
BODY_REFUSALS = (
    CommonErrors.INVALID,
    CommonErrors.MALFORMED,
    CommonErrors.JSON_TOO_DEEP,
    CommonErrors.REQUEST_TOO_LARGE,
)


class ErrorAnswer(OpenApiResponse):
    """An error status of one operation, with the codes it answers under it."""

    def __init__(self, specs: Iterable[ErrorSpec]) -> None:
        self.specs = tuple(specs)
        super().__init__(response=ErrorBodySerializer, description=_describe(self.specs))


def raises(*specs: ErrorSpec) -> dict[int, ErrorAnswer]:
    """The `responses` entries of the refusals an operation's services raise, by status."""
    by_status: dict[int, list[ErrorSpec]] = defaultdict(list)
    for spec in specs:
        by_status[spec.status].append(spec)
    return {status: ErrorAnswer(found) for status, found in sorted(by_status.items())}


def _describe(specs: Iterable[ErrorSpec]) -> str:
    unique = {spec.code: spec for spec in specs}
    return "\n".join(f"- `{code}`: {unique[code].text.en}" for code in sorted(unique))


# --- Refusals found from the view ----------------------------------------------------------------

#: Refusals that say when to come back (the error handler sends the body's `retry_after` as a header).
RETRY_AFTER_STATUSES = (423, 429)
RETRY_AFTER_CODES = frozenset({CommonErrors.RATE_LIMIT_UNAVAILABLE.code})
RETRY_AFTER_HEADER = {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}


def _spec(error: ApplicationError) -> ErrorSpec:
    return ErrorSpec(error.code, error.status, error.text)


def _refusal(call: Any) -> ErrorSpec | None:
    """What calling `call()` refuses with, as our error handler would answer it (None: no refusal).
    Anything that is not a refusal is a bug and propagates."""
    try:
        call()
    except Exception as exc:
        error = as_application_error(exc)
        if error is None:
            raise
        return _spec(error)
    return None


def _probe_request(method: str, user: Any, query: str = "") -> Request:
    http = HttpRequest()
    http.method = method
    http.GET = QueryDict(query)
    request = Request(http)
    request.user = user
    return request


def _ask(permission: BasePermission, request: Request, view: Any, anonymous_is_401: bool) -> None:
    """Ask a permission class as DRF's `check_permissions` does: a refusal it raises itself (with its
    own code) propagates; a plain "no" is a 401 for an anonymous caller of an authenticating view,
    else a 403."""
    if not permission.has_permission(request, view):
        raise drf.NotAuthenticated() if anonymous_is_401 else drf.PermissionDenied()


def _paginator_refusal(paginator: BasePagination, view: Any) -> ErrorSpec | None:
    """What the paginator answers for a page past the end or a tampered cursor (`o=x`, an offset that
    is not a number)."""
    request = _probe_request("GET", AnonymousUser(), "page=2&cursor=bz14")
    if isinstance(paginator, CursorPagination):
        return _refusal(lambda: paginator.decode_cursor(request))
    no_rows: Any = []
    return _refusal(lambda: paginator.paginate_queryset(no_rows, request, view))


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, with every operation's error answers (see the module docstring)."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        if direction != "response":
            return responses
        self.registry.register_on_missing(
            ResolvedComponent(
                name=FIELD_ERRORS_COMPONENT,
                type=ResolvedComponent.SCHEMA,
                object=FIELD_ERRORS_COMPONENT,
                schema=FIELD_ERRORS_SCHEMA,
            )
        )
        for status, specs in self._error_answers().items():
            responses[str(status)] = self._get_response_for_code(ErrorAnswer(specs), str(status))
            if status in RETRY_AFTER_STATUSES or any(spec.code in RETRY_AFTER_CODES for spec in specs):
                responses[str(status)]["headers"] = {"Retry-After": RETRY_AFTER_HEADER}
        # Success answers as declared, then the errors by status.
        return dict(sorted(responses.items(), key=lambda item: (item[0] >= "400", max(item[0], "400"))))

    def _error_answers(self) -> dict[int, list[ErrorSpec]]:
        declared = self._declared()
        found = self._found(declared_404=404 in declared)
        answers: dict[int, list[ErrorSpec]] = defaultdict(list)
        for status, specs in (*found.items(), *declared.items()):
            answers[status].extend(specs)
        return answers

    def _declared(self) -> dict[int, list[ErrorSpec]]:
        responses = self.get_response_serializers()
        declared: dict[int, list[ErrorSpec]] = defaultdict(list)
        if isinstance(responses, dict):
            for status, answer in responses.items():
                if isinstance(answer, ErrorAnswer):
                    declared[int(status)].extend(answer.specs)
        if isinstance(self.view, TokenViewBase):  # simplejwt's views: a bad refresh token is refused
            declared[401].append(CommonErrors.TOKEN_INVALID)
        return declared

    def _found(self, *, declared_404: bool) -> dict[int, list[ErrorSpec]]:
        found: list[ErrorSpec] = []
        parameters = self._get_parameters()
        query = {p["name"] for p in parameters if p["in"] == "query"}
        paginator = self._paginator_for(query)
        if paginator is not None:
            query -= {p["name"] for p in paginator.get_schema_operation_parameters(self.view)}
            refusal = _paginator_refusal(paginator, self.view)
            if refusal is not None:
                found.append(refusal)
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            found += BODY_REFUSALS
        if query:
            found.append(CommonErrors.INVALID)
        found += self._permission_refusals()
        if self.view.get_throttles():
            found += [CommonErrors.RATE_LIMITED, CommonErrors.RATE_LIMIT_UNAVAILABLE]
        if any(p["in"] == "path" for p in parameters) and not declared_404:
            found.append(CommonErrors.NOT_FOUND)
        by_status: dict[int, list[ErrorSpec]] = defaultdict(list)
        for spec in found:
            by_status[spec.status].append(spec)
        return by_status

    def _paginator_for(self, query: set[str]) -> BasePagination | None:
        """The paginator whose parameters the operation takes (a hand-paginated cursor list too)."""
        candidates = [self._get_paginator(), CursorPagination()]
        for paginator in candidates:
            if paginator is None:
                continue
            names = {p["name"] for p in paginator.get_schema_operation_parameters(self.view)}
            if names & query & {"cursor", "page"}:
                return paginator
        return None

    def _permission_refusals(self) -> list[ErrorSpec]:
        """Who the view turns away: ask each permission about an anonymous caller and about a signed-in
        user with no role, as DRF's `check_permissions` would."""
        authenticates = bool(self.view.get_authenticators())
        refusals = [CommonErrors.TOKEN_INVALID] if authenticates else []
        callers = [(AnonymousUser(), authenticates), (get_user_model()(is_active=True), False)]
        for permission in self.view.get_permissions():
            for user, anonymous_is_401 in callers:
                request = _probe_request(self.method, user)
                refusal = _refusal(partial(_ask, permission, request, self.view, anonymous_is_401))
                if refusal is not None:
                    refusals.append(refusal)
        return refusals
