"""Pieces every API module shares: ids, zoned times, the error body in the schema,
throttles."""

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from functools import reduce
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

# Ids are BigAutoField's: 1 up to PostgreSQL's bigint.
MAX_ID = 2**63 - 1
_ID_TEXT = re.compile(r"[0-9]{1,19}")


def whole_id(value: object) -> int | None:
    """`value` as an id if it is one exactly: a JSON integer or a string of ASCII digits,
    1 to MAX_ID. Not 1.5 (Django would read it as 1), 1.0, true, 1e999 or Arabic-Indic digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of a related record, read strictly (`whole_id`); every related field of the
    API is one (`ModelSerializer.serializer_related_field`, and the explicit ones)."""

    default_error_messages = {
        "incorrect_type": "Expected an id (a whole number from 1), received {data_type}.",
    }

    def to_internal_value(self, data):
        return super().to_internal_value(_strict_id(self, data))


def _strict_id(field: serializers.Field, data: object) -> int:
    pk = whole_id(data)
    if pk is None:
        if isinstance(data, int) and not isinstance(data, bool):
            field.fail("does_not_exist", pk_value=data)  # a whole number, just no such id
        field.fail("incorrect_type", data_type=type(data).__name__)
    return pk


@extend_schema_field(OpenApiTypes.INT)
class IdField(serializers.Field):
    """The id of a related record, read as strictly as `IdRelatedField` but not looked up:
    for a record the service checks in a query it runs anyway (one statement less)."""

    default_error_messages = {
        **IdRelatedField.default_error_messages,
        "does_not_exist": serializers.PrimaryKeyRelatedField.default_error_messages[
            "does_not_exist"
        ],
    }

    def to_internal_value(self, data) -> int:
        return _strict_id(self, data)

    def to_representation(self, value) -> int:
        return value


class RefusesUnknownFields:
    """A body holds only what the serializer writes: an unknown or read-only field is a 400
    naming it, never dropped in silence (a patient who sends `email` to their profile must
    learn that it changed nothing). Every serializer the API reads a body with has it, by
    `Serializer` and `ModelSerializer` below (`tests/kernel/test_strict_bodies.py`), its
    nested serializers too; query strings are not bodies."""

    # What a browser's form adds to a form-encoded body (the browsable API's, with DEBUG).
    _FORM_EXTRAS = frozenset({"csrfmiddlewaretoken"})

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refused = {
                str(name): [READ_ONLY if name in self.fields else UNKNOWN_FIELD]
                for name in data
                if name not in self._FORM_EXTRAS
                and (name not in self.fields or self.fields[name].read_only)
            }
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


UNKNOWN_FIELD = "Unknown field: this request does not take it."
READ_ONLY = "Read only: it cannot be changed here."


class Serializer(RefusesUnknownFields, serializers.Serializer):
    """The API's base serializer of a body."""


class ModelSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    """The API's base model serializer: related fields are strict ids; a body holds only
    writable fields."""

    serializer_related_field = IdRelatedField


class IdFormField(forms.IntegerField):
    """An id in a query string (a filter), read as strictly as in a body."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        pk = whole_id(value.strip() if isinstance(value, str) else value)
        if pk is None:
            raise forms.ValidationError("Expected an id (a whole number from 1).", code="invalid")
        return pk


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves a list alone when the request has no query
    string: with nothing to read, a filterset filters nothing, and building and validating
    its form is a good part of a short list's answer."""

    def filter_queryset(self, request: Request, queryset: models.QuerySet, view) -> models.QuerySet:
        if not request.query_params:
            return queryset
        return super().filter_queryset(request, queryset, view)


class IdFilter(django_filters.NumberFilter):
    """Filter by a related record's id (`?patient=12`)."""

    field_class = IdFormField


class ZonedDateTimeField(serializers.DateTimeField):
    """ISO 8601 with a UTC offset, both ways.

    Input without an offset is refused rather than guessed. Output keeps the zone of the
    value it is given, so an appointment reads in its location's local time.
    """

    default_error_messages = {
        "naive": "Include a UTC offset, e.g. 2026-12-01T09:00:00+11:00.",
    }

    def to_internal_value(self, value) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip()) if len(value) <= 64 else None
            except ValueError:  # well formed but impossible, e.g. minute 60
                self.fail("invalid", format="YYYY-MM-DDThh:mm:ss+hh:mm")
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        parsed = super().to_internal_value(value)
        within_calendar(parsed.date())
        return parsed

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


# Dates the clinic's calendar can mean: wide enough for any real query, narrow enough
# that arithmetic on them (the day after, midnight in a zone) never leaves Python's range.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def within_calendar(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(
            f"Must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}."
        )
    return value


def clinic_midnight(day: date) -> datetime:
    """Where `day` begins in the clinic's own time zone: a date filter's bound on a moment."""
    return datetime.combine(day, time(), tzinfo=timezone.get_default_timezone())


class CalendarDateField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(within_calendar)
        super().__init__(**kwargs)


class NamedSerializer(serializers.Serializer):
    """A related object as its id and the name it goes by (`__str__`)."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")

    def to_representation(self, instance: models.Model) -> dict[str, Any]:
        # By hand: what DRF's walk over the two fields gives, at a fraction of its cost on a
        # page that names a patient and a practitioner per row.
        return {"id": instance.pk, "name": str(instance)}


def row_of(obj: models.Model, columns: Iterable[str]) -> dict[str, Any]:
    """What `values(*columns)` gives for `obj`, read from the instance and the related
    objects it holds: for answers built from rows, when the record at hand is an instance
    (one just booked, say) rather than a row of a page."""
    return {column: reduce(getattr, column.split("__"), obj) for column in columns}


def name_of(context: dict[str, Any], model: type[models.Model], pk: int, **columns: Any) -> str:
    """The name `model` gives its record `pk` (`__str__`), made from the row's `columns`, for
    answers written from rows: worked out once per record per answer and kept in the
    serializer's `context` (a model instance costs more than the rest of a row)."""
    names = context.setdefault("names", {})
    if (model, pk) not in names:
        names[model, pk] = str(model(**columns))
    return names[model, pk]


_MOMENT = serializers.DateTimeField()


def moment(value: datetime | None) -> str | None:
    """A moment as a serializer's DateTimeField writes it (ISO 8601, in the clinic's time
    zone), for bodies built by hand rather than by DRF's walk over their fields."""
    return None if value is None else _MOMENT.to_representation(value)


class ErrorSerializer(serializers.Serializer):
    """Every 4xx response."""

    code = serializers.CharField(help_text="Stable, machine-readable reason.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per-field messages, for validation errors.",
    )


def error_response(description: str, *examples: tuple[str, str]) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description,
        examples=[
            OpenApiExample(code, value={"code": code, "detail": detail}, response_only=True)
            for code, detail in examples
        ],
    )


VALIDATION_ERROR = OpenApiResponse(
    response=ErrorSerializer,
    description="Invalid input; `fields` names each problem.",
    examples=[
        OpenApiExample(
            "invalid",
            value={
                "code": "invalid",
                "detail": "Some fields are not valid.",
                "fields": {"start": ["This field is required."]},
            },
            response_only=True,
        )
    ],
)
NOT_AUTHENTICATED = error_response(
    "No or expired credentials.",
    ("not_authenticated", "Authentication credentials were not provided."),
)
FORBIDDEN = error_response(
    "Signed in, but not allowed.",
    ("permission_denied", "You do not have permission to perform this action."),
)
NOT_FOUND = error_response("No such object visible to you.", ("not_found", "Not found."))
UNSUPPORTED_MEDIA_TYPE = error_response(
    "Send JSON (`Content-Type: application/json`).",
    ("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
)
THROTTLED = error_response(
    "Too many requests; retry after the `Retry-After` header's seconds.",
    ("throttled", "Request was throttled. Expected available in 42 seconds."),
)


class BookingThrottle(ScopedRateThrottle):
    """Counts only the booking changes (POST), not reading the diary."""

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
