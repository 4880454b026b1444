"""Group classes over HTTP: the timetable anyone reads (`/api/v1/classes/`), places that
patients book for themselves and staff for a patient, and the places' cancellation and
attendance (`/api/v1/class-places/`). Thin views over `appointments.classes`.

A patient sees their own place in a class and how many places are left, never who else
is coming; the front desk sees every class's attendees, a coach those of their classes."""

from datetime import timedelta
from typing import Any

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import BooksWithVerifiedEmail
from accounts.roles import Role, is_staff_member, roles_of
from appointments.classes import (
    book_place,
    book_series_places,
    cancel_place,
    mark_attendance,
    refusal_of,
)
from appointments.models import Attendance, GroupClass, PlaceStatus
from appointments.selectors import class_places_for, classes_for, open_classes
from kernel.errors import DomainError
from kernel.rest import (
    BookingThrottle,
    IdFilter,
    NamedSerializer,
    Serializer,
    ZonedDateTimeField,
    clinic_midnight,
    error_response,
    within_calendar,
)
from patients.models import Patient

from .api import BookablePatientField, IsPatientOrStaff, booking_source


class PlaceSerializer(Serializer):
    """A place in a class: the patient's own, or an attendee on the staff's list."""

    id = serializers.IntegerField(read_only=True)
    group_class = serializers.IntegerField(source="group_class_id", read_only=True)
    patient = NamedSerializer(read_only=True)
    seat = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(PlaceStatus.choices, read_only=True)
    attendance = serializers.ChoiceField(
        Attendance.choices,
        read_only=True,
        allow_blank=True,
        help_text="arrived, no_show, late_cancel; empty until recorded.",
    )
    booked_at = serializers.DateTimeField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ClassSerializer(Serializer):
    id = serializers.IntegerField(read_only=True)
    service = NamedSerializer(read_only=True)
    coach = NamedSerializer(source="practitioner", read_only=True)
    location = NamedSerializer(read_only=True)
    room = serializers.CharField(source="room.name", read_only=True)
    start = ZonedDateTimeField(
        source="local_start", read_only=True, help_text="In the location's time zone."
    )
    end = ZonedDateTimeField(source="local_end", read_only=True)
    capacity = serializers.IntegerField(read_only=True)
    places_left = serializers.IntegerField(read_only=True)
    bookable_online = serializers.BooleanField(
        read_only=True, help_text="Patients may book a place themselves."
    )
    status = serializers.CharField(read_only=True)
    series = serializers.IntegerField(
        source="series_id",
        read_only=True,
        allow_null=True,
        help_text="The series the class is one of: `POST .../series-places/` books them all.",
    )


class ClassDetailSerializer(ClassSerializer):
    my_place = serializers.SerializerMethodField(
        help_text="A signed-in patient's own place in the class (booked or cancelled); null "
        "when they have none, and for everyone else."
    )
    attendees = serializers.SerializerMethodField(
        help_text="Staff who see the class's places (the front desk; the coach): every "
        "place, cancelled ones too. Null for everyone else."
    )

    @extend_schema_field(PlaceSerializer(allow_null=True))
    def get_my_place(self, group_class: GroupClass) -> dict[str, Any] | None:
        user = self.context["request"].user
        if Role.PATIENT not in roles_of(user):
            return None
        place = (
            group_class.places.filter(patient=user.patient).order_by("-booked_at", "-pk").first()
        )
        return PlaceSerializer(place).data if place else None

    @extend_schema_field(PlaceSerializer(many=True, allow_null=True))
    def get_attendees(self, group_class: GroupClass) -> list[dict[str, Any]] | None:
        user = self.context["request"].user
        if not is_staff_member(user):
            return None
        places = class_places_for(user).filter(group_class=group_class).order_by("status", "seat")
        return PlaceSerializer(places, many=True).data


class PlaceRequestSerializer(Serializer):
    patient = BookablePatientField(
        required=False, help_text="Staff: required, the patient booked. Patients: leave it out."
    )
    free_only = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Series only: book the classes that have a place for the patient and leave "
        "out the rest; otherwise one refused class refuses them all (409 "
        "`series_not_bookable`).",
    )

    def validate(self, attrs):
        staff = is_staff_member(self.context["request"].user)
        if staff and "patient" not in attrs:
            raise serializers.ValidationError({"patient": ["This field is required."]})
        if not staff and "patient" in attrs:
            raise serializers.ValidationError({"patient": ["Patients book for themselves."]})
        return attrs


class AttendanceSerializer(Serializer):
    attendance = serializers.ChoiceField([Attendance.ARRIVED, Attendance.NO_SHOW])


class ClassFilter(django_filters.FilterSet):
    service = IdFilter(field_name="service_id")
    location = IdFilter(field_name="location_id")
    coach = IdFilter(field_name="practitioner_id", help_text="The coach's practitioner id.")
    to = django_filters.DateFilter(
        method="filter_to", help_text="Starting on or before.", validators=[within_calendar]
    )

    class Meta:
        model = GroupClass
        fields = ["service", "location", "coach", "to"]

    def filter_from(self, classes, name, value):
        return classes.filter(start__gte=clinic_midnight(value))

    def filter_to(self, classes, name, value):
        return classes.filter(start__lt=clinic_midnight(value + timedelta(days=1)))


ClassFilter.base_filters["from"] = django_filters.DateFilter(
    method="filter_from", help_text="Starting on or after.", validators=[within_calendar]
)

PLACE_REFUSED = error_response(
    "The class cannot take the patient.",
    ("class_full", "The class is full."),
    ("already_booked", "You already have a place in this class."),
    ("class_cancelled", "This class is cancelled."),
    ("class_started", "This class has already started."),
    ("not_bookable_online", "Places in this class cannot be booked online."),
    ("new_patient_needs_assessment", "New patients start with an initial assessment."),
    ("series_not_bookable", "1 of the series' classes cannot be booked."),
    ("not_in_a_series", "This class is not one of a series."),
    ("inside_cancellation_window", "Places cannot be cancelled online less than 24 hours."),
)
_SERIES_PLACES = inline_serializer(
    "SeriesPlaces",
    {
        "places": PlaceSerializer(many=True),
        "refused": inline_serializer(
            "SeriesPlaceRefused",
            {
                "group_class": serializers.IntegerField(),
                "start": serializers.DateTimeField(),
                "code": serializers.CharField(),
                "detail": serializers.CharField(),
            },
            many=True,
        ),
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Group classes with places left",
        description="Scheduled classes still to come that have a place left, soonest first.",
        tags=["classes"],
    ),
    retrieve=extend_schema(
        summary="One group class",
        description="Anyone: a scheduled class; staff: any. A patient sees their own place, "
        "staff the attendees.",
        tags=["classes"],
        responses={200: ClassDetailSerializer},
    ),
)
class GroupClassViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ClassFilter
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"
    booking_actions = ("places", "series_places")

    def get_permissions(self):
        if self.action in self.booking_actions:
            return [IsAuthenticated(), IsPatientOrStaff(), BooksWithVerifiedEmail()]
        return [AllowAny()]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return open_classes(user, timezone.now())
        return classes_for(user)

    def get_serializer_class(self):
        if self.action in self.booking_actions:
            return PlaceRequestSerializer
        return ClassDetailSerializer if self.action == "retrieve" else ClassSerializer

    @extend_schema(
        summary="Book a place in the class",
        description="A patient books their own place (online: where the class allows it, "
        "under the online booking rules); staff book one for `patient`.",
        tags=["classes"],
        request=PlaceRequestSerializer,
        responses={201: PlaceSerializer, 409: PLACE_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def places(self, request: Request, pk: str) -> Response:
        group_class = self.get_object()
        patient, _ = self._parsed()
        place = book_place(
            group_class=group_class,
            patient=patient,
            source=booking_source(request.user),
            booked_by=request.user,
        )
        return Response(PlaceSerializer(place).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Book a place in every class of the class's series still to come",
        description="All of them in one transaction, or with `free_only` those with a place "
        "for the patient; each refused class is answered with its code.",
        tags=["classes"],
        request=PlaceRequestSerializer,
        responses={201: _SERIES_PLACES, 409: PLACE_REFUSED},
    )
    @action(detail=True, methods=["post"], url_path="series-places")
    def series_places(self, request: Request, pk: str) -> Response:
        group_class = self.get_object()
        patient, data = self._parsed()
        if group_class.series is None:
            raise DomainError("not_in_a_series", "This class is not one of a series.")
        results = book_series_places(
            series=group_class.series,
            patient=patient,
            source=booking_source(request.user),
            booked_by=request.user,
            free_only=data["free_only"],
        )
        return Response(
            {
                "places": [PlaceSerializer(r.place).data for r in results if r.place],
                "refused": [refusal_of(r) for r in results if r.refused],
            },
            status=status.HTTP_201_CREATED,
        )

    def _parsed(self) -> tuple[Patient, dict[str, Any]]:
        """The patient booked (staff name them; a patient has no other) and the body."""
        body = self.get_serializer(data=self.request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return data.get("patient") or self.request.user.patient, data


@extend_schema_view(
    list=extend_schema(
        summary="Places in group classes",
        description="A patient's own; the front desk's every one; a coach's those of their "
        "classes.",
        tags=["classes"],
    ),
    retrieve=extend_schema(summary="One place", tags=["classes"]),
)
class ClassPlaceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsPatientOrStaff]
    serializer_class = PlaceSerializer
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"

    def get_queryset(self):
        return class_places_for(self.request.user).order_by("-booked_at", "-pk")

    @extend_schema(
        summary="Cancel a place",
        description="Online, not inside the cancellation window; staff may, and it is "
        "recorded as a late cancellation.",
        request=None,
        responses={200: PlaceSerializer, 409: PLACE_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        place = cancel_place(
            place=self.get_object(),
            by=request.user,
            online=not is_staff_member(request.user),
        )
        return Response(PlaceSerializer(place).data)

    @extend_schema(
        summary="Record whether the patient came",
        description="Staff: arrived (from the class's day on) or no_show (once it started).",
        request=AttendanceSerializer,
        responses={200: PlaceSerializer, 409: PLACE_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str) -> Response:
        if not is_staff_member(request.user):
            raise PermissionDenied("Staff record attendance.")
        place = self.get_object()
        body = AttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marked = mark_attendance(
            place=place, attendance=body.validated_data["attendance"], by=request.user
        )
        return Response(PlaceSerializer(marked).data)
