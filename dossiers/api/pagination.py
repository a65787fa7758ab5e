"""Cursor pagination everywhere: stable under inserts, no COUNT(*), bounded pages."""

from rest_framework.pagination import CursorPagination


class CodeCursorPagination(CursorPagination):
    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ByCodePagination(CodeCursorPagination):
    ordering = "code"


class RecentFirstPagination(CodeCursorPagination):
    """Newest first; ties broken by id so a page boundary never skips a row."""

    ordering = ("-submitted_at", "-id")


class NewestIdPagination(CodeCursorPagination):
    ordering = "-id"
