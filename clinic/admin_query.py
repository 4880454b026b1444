"""Reading an admin page's query string: the front desk's links carry dates and ids, and
a hand-edited or stale link must give a message, not a server error.

A date outside the clinic's calendar (year 1, year 9999: the day before or after cannot
even be computed) or an id that is not a whole number is ignored with a warning, and the
page shows its default (today, the first location) instead.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from clinic.api_common import EARLIEST_DATE, LATEST_DATE, whole_id

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
