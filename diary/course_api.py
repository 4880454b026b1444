"""Courses of visits over HTTP (`/api/v1/appointment-series/`): preview a course visit by
visit, book it, read it back. Thin views over `appointments.courses`."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import BooksWithVerifiedEmail
from accounts.models import User
from accounts.roles import is_staff_member
from appointments.courses import (
    NEXT_DAY,
    OTHER_PRACTITIONER,
    SAME_DAY,
    SCOPES,
    Choice,
    CourseBooking,
    CourseRule,
    Preview,
    book_course,
    cancel_course_visits,
    preview_course,
)
from appointments.models import MAX_COURSE_INTERVAL_WEEKS, MAX_COURSE_VISITS, Course
from appointments.selectors import courses_for
from kernel.errors import DomainError
from kernel.rest import (
    BookingThrottle,
    CalendarDateField,
    IdRelatedField,
    Serializer,
    ZonedDateTimeField,
    error_response,
)
from practice.models import Location, Practitioner
from practice.selectors import services_for

from .api import BookablePatientField, CancelSerializer, IsPatientOrStaff, booking_source


@extend_schema_field(OpenApiTypes.INT)
class _ServiceField(IdRelatedField):
    """A service id, among those the caller may book."""

    def get_queryset(self):
        return services_for(self.context["request"].user)


def _practitioner_field(**kwargs: Any) -> IdRelatedField:
    return IdRelatedField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"), **kwargs
    )


class CourseRequestSerializer(Serializer):
    """A course asked for: what, with whom, where, and when its visits fall."""

    patient = BookablePatientField(
        required=False, help_text="Staff: required. Patients: leave it out (their own)."
    )
    service = _ServiceField()
    practitioner = _practitioner_field(
        required=False,
        allow_null=True,
        help_text="Leave out for whoever is free at the first visit, then the same for all.",
    )
    location = IdRelatedField(queryset=Location.objects.filter(is_active=True))
    first_date = CalendarDateField()
    at = serializers.TimeField(help_text="The visits' start on the location's clock, e.g. 07:00.")
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="0 = Monday .. 6 = Sunday; left out: the first date's weekday.",
    )
    every_weeks = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=MAX_COURSE_INTERVAL_WEEKS
    )
    visits = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_COURSE_VISITS, help_text="Or `until`."
    )
    until = CalendarDateField(required=False, help_text="The last day a visit may fall on.")

    def validate(self, attrs):
        staff = is_staff_member(self.context["request"].user)
        if staff and "patient" not in attrs:
            raise serializers.ValidationError({"patient": ["This field is required."]})
        if not staff and "patient" in attrs:
            raise serializers.ValidationError({"patient": ["Patients book for themselves."]})
        return attrs

    def rule(self) -> CourseRule:
        data = self.validated_data
        return CourseRule(
            first_date=data["first_date"],
            at=data["at"],
            weekdays=data.get("weekdays", ()),
            every_weeks=data["every_weeks"],
            visits=data.get("visits"),
            until=data.get("until"),
        )


class ChoiceSerializer(Serializer):
    number = serializers.IntegerField(min_value=1, max_value=MAX_COURSE_VISITS)
    skip = serializers.BooleanField(required=False, default=False)
    start = ZonedDateTimeField(required=False, help_text="An alternative's start.")
    practitioner = _practitioner_field(required=False, help_text="An alternative's practitioner.")

    def validate(self, attrs):
        if attrs["skip"] and ("start" in attrs or "practitioner" in attrs):
            raise serializers.ValidationError({"skip": ["Skip a visit, or move it; not both."]})
        if not attrs["skip"] and "start" not in attrs and "practitioner" not in attrs:
            raise serializers.ValidationError({"start": ["Give the alternative's start."]})
        return attrs


class CourseCancelSerializer(CancelSerializer):
    appointment = serializers.IntegerField(
        min_value=1, help_text="A visit of the course: the one cancelled, or the first of them."
    )
    scope = serializers.ChoiceField(
        SCOPES, help_text="This visit, it and the following ones, or all still to come."
    )


class CourseBookingSerializer(CourseRequestSerializer):
    free_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Book the visits that can be booked and leave out the rest; otherwise "
        "one refused visit refuses the course (409 `course_not_bookable`).",
    )
    choices = ChoiceSerializer(
        many=True,
        required=False,
        max_length=MAX_COURSE_VISITS,
        help_text="Visits (by number) to skip or to book at a chosen alternative.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        numbers = [choice["number"] for choice in attrs.get("choices", [])]
        if len(set(numbers)) != len(numbers):
            raise serializers.ValidationError({"choices": ["Name each visit once."]})
        return attrs


_PREVIEW = inline_serializer(
    "CoursePreview",
    {
        "practitioner": serializers.IntegerField(allow_null=True),
        "visits": inline_serializer(
            "CourseVisitCheck",
            {
                "number": serializers.IntegerField(),
                "start": serializers.DateTimeField(),
                "practitioner": serializers.IntegerField(allow_null=True),
                "free": serializers.BooleanField(),
                "reason": serializers.CharField(),
                "alternatives": inline_serializer(
                    "CourseAlternative",
                    {
                        "kind": serializers.ChoiceField([SAME_DAY, OTHER_PRACTITIONER, NEXT_DAY]),
                        "start": serializers.DateTimeField(),
                        "practitioner": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
            many=True,
        ),
    },
)
_COURSE_FIELDS = {
    "id": serializers.IntegerField(),
    "patient": serializers.IntegerField(),
    "service": serializers.IntegerField(),
    "practitioner": serializers.IntegerField(),
    "location": serializers.IntegerField(),
    "rule": inline_serializer(
        "CourseRule",
        {
            "first_date": serializers.DateField(),
            "at": serializers.CharField(help_text="HH:MM on the location's clock."),
            "weekdays": serializers.ListField(child=serializers.IntegerField()),
            "every_weeks": serializers.IntegerField(),
            "visits": serializers.IntegerField(allow_null=True),
            "until": serializers.DateField(allow_null=True),
        },
    ),
    "appointments": inline_serializer(
        "CourseAppointment",
        {
            "id": serializers.IntegerField(),
            "start": serializers.DateTimeField(),
            "practitioner": serializers.IntegerField(),
            "status": serializers.CharField(),
        },
        many=True,
    ),
}
_COURSE = inline_serializer("Course", _COURSE_FIELDS)
_BOOKED_COURSE = inline_serializer(
    "BookedCourse",
    {
        **_COURSE_FIELDS,
        "visits": inline_serializer(
            "CourseVisitResult",
            {
                "number": serializers.IntegerField(),
                "start": serializers.DateTimeField(),
                "practitioner": serializers.IntegerField(),
                "status": serializers.ChoiceField(["booked", "refused", "skipped"]),
                "appointment": serializers.IntegerField(allow_null=True),
                "code": serializers.CharField(help_text="The refusal's code, if refused."),
                "detail": serializers.CharField(),
            },
            many=True,
        ),
    },
)
_CANCELLED = inline_serializer(
    "CourseVisitsCancelled",
    {
        "visits": inline_serializer(
            "CourseVisitCancelled",
            {
                "appointment": serializers.IntegerField(),
                "status": serializers.ChoiceField(["cancelled", "refused"]),
                "code": serializers.CharField(help_text="The refusal's code, if refused."),
                "detail": serializers.CharField(),
            },
            many=True,
        )
    },
)
COURSE_REFUSED = error_response(
    "The course cannot be booked as asked: `course_not_bookable` lists each refused visit "
    "in `visits` (number, start, code, detail) and books none; `nothing_to_book` when no "
    "visit could be booked; `not_bookable_online` for a patient when the service's courses "
    "are booked by the clinic.",
    ("course_not_bookable", "2 of the course's visits cannot be booked as asked."),
    ("nothing_to_book", "None of the course's visits can be booked."),
    ("not_bookable_online", "A course of NMPT session cannot be booked online."),
    ("nothing_to_cancel", "None of those visits can be cancelled."),
)


class CourseViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Staff book courses for patients; a patient books their own where the service allows
    it online (`courses_online`), each visit under the online rules."""

    permission_classes = [IsAuthenticated, IsPatientOrStaff, BooksWithVerifiedEmail]
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"

    def get_queryset(self):
        return courses_for(self.request.user)

    def get_serializer_class(self):
        return {
            "preview": CourseRequestSerializer,
            "cancel": CourseCancelSerializer,
        }.get(self.action, CourseBookingSerializer)

    @extend_schema(
        summary="Preview a course visit by visit",
        description="Which visits are free and, for each that is not, the nearest "
        "alternatives (same day another time, same time another practitioner, the next "
        "days). Books nothing.",
        request=CourseRequestSerializer,
        responses={200: _PREVIEW, 409: COURSE_REFUSED},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patient = self._patient(data)
        _check_online_courses(request.user, data["service"])
        preview = preview_course(
            service=data["service"],
            location=data["location"],
            rule=body.rule(),
            practitioner=data.get("practitioner"),
            patient=patient,
            online=not is_staff_member(request.user),
        )
        return Response(_preview_body(preview, data["location"]))

    @extend_schema(
        summary="Book a course",
        description="Every visit is booked as a single booking would be, in one "
        "transaction: all of them, or with `free_only` the free ones, or with `choices` "
        "some skipped or moved to an alternative.",
        request=CourseBookingSerializer,
        responses={201: _BOOKED_COURSE, 409: COURSE_REFUSED},
    )
    def create(self, request: Request) -> Response:
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        patient = self._patient(data)
        _check_online_courses(request.user, data["service"])
        practitioner = data.get("practitioner") or _first_free(data, body.rule(), patient)
        booking = book_course(
            patient=patient,
            service=data["service"],
            practitioner=practitioner,
            location=data["location"],
            rule=body.rule(),
            choices={
                choice["number"]: Choice(
                    skip=choice["skip"],
                    start=choice.get("start"),
                    practitioner=choice.get("practitioner"),
                )
                for choice in data.get("choices", [])
            },
            free_only=data["free_only"],
            source=booking_source(request.user),
            created_by=request.user,
        )
        return Response(_booking_body(booking), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel visits of a course",
        description="One visit, it and the following ones, or all still to come, each under "
        "the rules of a single cancellation (online, the cancellation window per visit); a "
        "refused visit stays booked and is answered with its code. One message tells the "
        "patient of them all.",
        request=CourseCancelSerializer,
        responses={200: _CANCELLED, 409: COURSE_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        course = self.get_object()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        visit = course.appointments.filter(pk=data["appointment"]).first()
        if visit is None:
            raise DomainError.invalid("appointment", ["Not a visit of this course."])
        results = cancel_course_visits(
            appointment=visit,
            scope=data["scope"],
            by=request.user,
            reason=data["reason"],
            online=not is_staff_member(request.user),
        )
        return Response(
            {
                "visits": [
                    {
                        "appointment": result.appointment.pk,
                        "status": "refused" if result.refused else "cancelled",
                        "code": result.refused.code if result.refused else "",
                        "detail": result.refused.detail if result.refused else "",
                    }
                    for result in results
                ]
            }
        )

    @extend_schema(summary="One course and its visits", responses={200: _COURSE})
    def retrieve(self, request: Request, pk: str) -> Response:
        course = self.get_object()
        return Response(_course_body(course, list(course.appointments.order_by("start"))))

    def _patient(self, data: dict[str, Any]):
        if "patient" in data:  # staff name them; a patient has no other
            return data["patient"]
        return self.request.user.patient


def _check_online_courses(user: User, service) -> None:
    if not is_staff_member(user) and not service.courses_online:
        raise DomainError(
            "not_bookable_online",
            f"A course of {service} cannot be booked online; please call the clinic.",
        )


def _first_free(data: dict[str, Any], rule: CourseRule, patient) -> Practitioner:
    """ "Same as the first visit": whoever is free then."""
    preview = preview_course(
        service=data["service"],
        location=data["location"],
        rule=rule,
        patient=patient,
    )
    if preview.practitioner is None:
        raise DomainError(
            "slot_unavailable", "Nobody is free for the first visit; pick another time."
        )
    return preview.practitioner


def _local(moment, location: Location) -> str:
    return moment.astimezone(location.zone).isoformat()


def _preview_body(preview: Preview, location: Location) -> dict[str, Any]:
    return {
        "practitioner": preview.practitioner.pk if preview.practitioner else None,
        "visits": [
            {
                "number": visit.number,
                "start": _local(visit.start, location),
                "practitioner": visit.practitioner_id,
                "free": visit.free,
                "reason": visit.reason,
                "alternatives": [
                    {
                        "kind": alternative.kind,
                        "start": _local(alternative.start, location),
                        "practitioner": alternative.practitioner_id,
                    }
                    for alternative in visit.alternatives
                ],
            }
            for visit in preview.visits
        ],
    }


def _booking_body(booking: CourseBooking) -> dict[str, Any]:
    location = booking.course.location
    body = _course_body(booking.course, booking.booked)
    body["visits"] = [
        {
            "number": visit.number,
            "start": _local(visit.start, location),
            "practitioner": visit.practitioner_id,
            "status": "skipped" if visit.skipped else "refused" if visit.refused else "booked",
            "appointment": visit.appointment.pk if visit.appointment else None,
            "code": visit.refused.code if visit.refused else "",
            "detail": visit.refused.detail if visit.refused else "",
        }
        for visit in booking.visits
    ]
    return body


def _course_body(course: Course, appointments: list) -> dict[str, Any]:
    return {
        "id": course.pk,
        "patient": course.patient_id,
        "service": course.service_id,
        "practitioner": course.practitioner_id,
        "location": course.location_id,
        "rule": {
            "first_date": course.first_date.isoformat(),
            "at": course.at.strftime("%H:%M"),
            "weekdays": list(course.weekdays),
            "every_weeks": course.every_weeks,
            "visits": course.visits,
            "until": course.until.isoformat() if course.until else None,
        },
        "appointments": [
            {
                "id": appointment.pk,
                "start": _local(appointment.start, course.location),
                "practitioner": appointment.practitioner_id,
                "status": appointment.status,
            }
            for appointment in appointments
        ],
    }
