from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework import pagination


class PageFirstPaginator(Paginator):
    """Django's paginator, reading the first page before the count: a first page that is
    not full is the whole list, so its length is the count, and the COUNT query is left
    out. Most lists a patient reads fit on one page; a longer list, and any later page, is
    counted first as Django does (which also keeps a page number past the list from
    reaching the database)."""

    def page(self, number) -> Page:
        if "count" in self.__dict__ or self.orphans or number not in (1, "1"):
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.count = len(rows)
        return self._get_page(rows, self.validate_number(number), self)


class PagedRows:
    """A list's rows (`values(*columns)` of its queryset) for the paginator: counted as the
    queryset itself, read as rows a page at a time. A values() queryset's COUNT would keep
    the joins its columns need, over every row of the list."""

    def __init__(self, queryset: QuerySet, columns: Sequence[str]) -> None:
        self.queryset = queryset
        self.columns = columns
        self.ordered = queryset.ordered

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice) -> list[dict[str, Any]]:
        # Rows have nothing to prefetch into.
        return list(self.queryset[page].prefetch_related(None).values(*self.columns))


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = PageFirstPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
