from collections.abc import Sequence
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from rest_framework import pagination

# PostgreSQL's OFFSET and LIMIT are bigints: a page number from the query string can ask
# for rows past them.
_LARGEST_OFFSET = 2**63 - 1


class PageFirstPaginator(Paginator):
    """Django's paginator, reading the page before the count: a page that is not full is
    the list's last, so it tells the count, and the COUNT query is left out. Most lists a
    patient reads fit on one page; a longer list is counted as before."""

    def page(self, number) -> Page:
        if "count" in self.__dict__ or self.orphans:
            return super().page(number)
        number = self._whole_number(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > _LARGEST_OFFSET:
            return super().page(number)  # past any list: the count says so, as a 404
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if (rows and len(rows) < self.per_page) or (number == 1 and not rows):
            self.count = bottom + len(rows)
        # A full page, or nothing past page 1: the count decides, as Django's would.
        return self._get_page(rows, self.validate_number(number), self)

    def _whole_number(self, number) -> int:
        """Django's check of a page number, but for the last page (which needs the count)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


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
