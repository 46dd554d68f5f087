from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Model, QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from loship.errors import CommonErrors


class PageNumberPagination(pagination.PageNumberPagination):
    """Page lists for admin-like screens: `?page=2&page_size=50`, at most 100 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """Cursor lists for feeds that grow at the top (orders, notifications): newest first.

    A cursor is opaque to the client; one it did not get from us (not base64, or a position that is
    no value of the ordering field) is a 400 `cursor_invalid`, not DRF's 404 or a database error.
    """

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise CommonErrors.CURSOR_INVALID() from None
        if cursor is not None and cursor.position is not None:
            self._check_position(self._model, str(cursor.position))
        return cursor

    def _check_position(self, model: type[Model], position: str) -> None:
        """The position must be a value of the first ordering field, as the filter will compare it."""
        try:
            field = model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            field = None
        if not isinstance(field, Field):
            return  # ordered across a relation: the comparison is left to the database
        try:
            field.get_prep_value(field.to_python(position))
        except (ValidationError, TypeError, ValueError):
            raise CommonErrors.CURSOR_INVALID() from None
        if "\x00" in position:  # PostgreSQL refuses NUL in text
            raise CommonErrors.CURSOR_INVALID()
