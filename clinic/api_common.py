"""Pieces every API module shares: zoned times, the error body in the schema, throttles."""

from datetime import date, datetime

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.throttling import ScopedRateThrottle

from accounts.roles import is_staff_member


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


class CalendarDateField(serializers.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("validators", []).append(within_calendar)
        super().__init__(**kwargs)


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


class IsStaffMember(BasePermission):
    message = "Only clinic staff can do this."

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)


class BookingThrottle(ScopedRateThrottle):
    """Counts only the booking changes (POST), not reading the diary."""

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
