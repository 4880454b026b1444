"""Reading an admin page's query string: the front desk's links carry dates and ids, and
a hand-edited or stale link must give a message, not a server error.

A date outside the clinic's calendar (year 1, year 9999: the day before or after cannot
even be computed) or an id that is not a whole number is ignored with a warning, and the
page shows its default (today, the first location) instead.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kernel.rest import EARLIEST_DATE, LATEST_DATE, whole_id

CALENDAR = f"between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"


def in_calendar(value: date | None) -> bool:
    return value is not None and EARLIEST_DATE <= value <= LATEST_DATE


def parse_calendar_date(text: str | None) -> date | None:
    """`text` as a date of the clinic's calendar (YYYY-MM-DD), else None."""
    try:
        value = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value if in_calendar(value) else None


def query_date(request: HttpRequest, name: str) -> date | None:
    """The query's date `name`, or None, with a warning when one was given but is no date
    of the calendar."""
    text = request.GET.get(name)
    value = parse_calendar_date(text)
    if text and value is None:
        messages.warning(request, f"Ignored {name}={text[:40]!r}: not a date {CALENDAR}.")
    return value


def query_id(request: HttpRequest, name: str) -> int | None:
    """The query's id `name`, or None, with a warning when one was given but is no id."""
    text = request.GET.get(name)
    value = whole_id(text)
    if text and value is None:
        messages.warning(request, f"Ignored {name}={text[:40]!r}: not an id.")
    return value


def _within_calendar(value: date) -> None:
    if not in_calendar(value):
        raise forms.ValidationError(f"Choose a date {CALENDAR}.", code="out_of_calendar")


class CalendarDateField(forms.DateField):
    """A form's date, limited to the clinic's calendar (so the day after it exists)."""

    default_validators = [_within_calendar]


def _calendar_moment(text: str, field) -> object:
    """A date filter's bound as the field's value: a date of the calendar, or for a
    date-time field an aware moment (a bare date is midnight in the clinic's zone)."""
    moment = parse_datetime(text) if "T" in text or " " in text.strip() else None
    day = moment.date() if moment else parse_calendar_date(text)
    if not in_calendar(day):
        raise IncorrectLookupParameters(f"{text[:40]!r} is not a date {CALENDAR}.")
    if not isinstance(field, models.DateTimeField):
        return day
    moment = moment or datetime.combine(day, time())
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


class CalendarDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter, its `__gte` and `__lt` bounds read as dates of the calendar:
    a hand-typed `0001-01-01` was a naive moment before year 1 in UTC (a 500). Registered
    for every date field of every admin (clinic/admin.py)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        for name in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            if name in self.used_parameters:
                self.used_parameters[name] = [
                    _calendar_moment(str(value), field) for value in self.used_parameters[name]
                ]


class CalendarChangeList(ChangeList):
    """A changelist whose date hierarchy (`?start__year=&start__month=&start__day=`) stays
    inside the calendar: Django computes the next year, month or day of the one asked for,
    which does not exist after 9999 (a 500) and is before year 1 in UTC for year 1."""

    def get_filters(self, request):
        if self.date_hierarchy:
            year = self.params.get(f"{self.date_hierarchy}__year")
            if year is not None:
                text = year[-1] if isinstance(year, list) else year
                if whole_id(text) is None or not (
                    EARLIEST_DATE.year <= int(text) <= LATEST_DATE.year
                ):
                    raise IncorrectLookupParameters(f"Year {text[:10]!r} is not {CALENDAR}.")
        return super().get_filters(request)


class ForgivingQueryAdmin:
    """For a ModelAdmin: the date hierarchy within the calendar, and an add form's initial
    values from the query string (`?start=...`) dropped unless its field reads them (a
    date-time widget fails on a raw string)."""

    def get_changelist(self, request, **kwargs):
        return CalendarChangeList

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        form = self.get_form(request)
        kept = {}
        for name, value in initial.items():
            field = form.base_fields.get(name)
            try:
                kept[name] = field.clean(value) if field is not None else value
            except (forms.ValidationError, ValueError, TypeError, OverflowError):
                continue
        return kept
