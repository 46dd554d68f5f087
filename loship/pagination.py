from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """Page lists for admin-like screens: `?page=2&page_size=50`, at most 100 rows a page."""

    page_size_query_param = "page_size"
    max_page_size = 100


class CursorPagination(pagination.CursorPagination):
    """Cursor lists for feeds that grow at the top (orders, notifications): newest first."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 100
