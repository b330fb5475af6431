"""Limit/offset pagination with bounds: ``?limit=99999999999999999999`` answered 500 (the number
reached the database as a bigint out of range) — issue 17."""

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
