"""Availability and appointments over HTTP: thin views over the scheduling core."""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import django_filters
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import BooksWithVerifiedEmail
from accounts.models import User
from accounts.roles import Role, is_staff_member, roles_of
from appointments.calendar import calendar_file
from appointments.clashes import Placed, clashes_among
from appointments.idempotency import book_once
from appointments.models import (
    UPCOMING_STATUSES,
    Appointment,
    ConfirmedVia,
    SlotHold,
    Source,
    Status,
)
from appointments.selectors import appointments_for
from appointments.services import (
    book_appointment,
    cancel_appointment,
    confirm_appointment,
    held_by,
    hold_slot,
    release_hold,
    reschedule_appointment,
)
from appointments.slot_cache import Question, available_slots_json
from audit.services import source_address
from care.selectors import bookable_patients_for
from kernel.errors import DomainError
from kernel.pagination import PagedRows
from kernel.renderers import ClinicJSONRenderer
from kernel.rest import (
    BookingThrottle,
    CalendarDateField,
    IdField,
    IdFilter,
    IdRelatedField,
    ModelSerializer,
    NamedSerializer,
    Serializer,
    ZonedDateTimeField,
    clinic_midnight,
    error_response,
    moment,
    name_of,
    row_of,
    within_calendar,
)
from patients.models import Patient
from practice.models import Location, Practitioner, Service
from practice.selectors import services_for
from treatments.selectors import (
    clinical_patient_ids_among,
    latest_risk_by_patient,
    measure_schedules_among,
    measures_due_on,
    open_red_flags_by_patient,
    rescreen_due_among,
)

MAX_WINDOW_DAYS = 31


# --- availability -----------------------------------------------------------------------


class AvailabilityQuerySerializer(serializers.Serializer):
    service = IdRelatedField(queryset=Service.objects.none())
    to = CalendarDateField(help_text="Last local date, inclusive.")
    practitioner = IdRelatedField(
        queryset=Practitioner.objects.filter(is_active=True), required=False
    )
    location = IdRelatedField(queryset=Location.objects.filter(is_active=True), required=False)

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so it cannot be a class attribute.
        fields["from"] = CalendarDateField(help_text="First local date.")
        fields["service"].queryset = services_for(self.context["request"].user)
        return fields

    def validate(self, attrs):
        first, last = attrs["from"], attrs["to"]
        if last < first:
            raise serializers.ValidationError({"to": ["Must not be before `from`."]})
        if (last - first).days + 1 > MAX_WINDOW_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The window is at most {MAX_WINDOW_DAYS} days."]}
            )
        return attrs


class SlotSerializer(Serializer):
    start = ZonedDateTimeField(help_text="In the location's time zone.")
    end = ZonedDateTimeField()
    practitioner = serializers.IntegerField()
    location = serializers.IntegerField()


class AvailabilitySerializer(Serializer):
    slots = SlotSerializer(many=True)


class AvailabilityView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Free slots for a service",
        description=(
            "Every start at which the service can be booked, by practitioner and location. "
            "The public sees the online rules (lead time, horizon, online-bookable "
            f"services); signed-in staff see every free slot. At most {MAX_WINDOW_DAYS} days."
        ),
        tags=["availability"],
        parameters=[
            OpenApiParameter("service", int, required=True),
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            OpenApiParameter("practitioner", int),
            OpenApiParameter("location", int),
        ],
        responses={200: AvailabilitySerializer},
        examples=[
            OpenApiExample(
                "slots",
                value={
                    "slots": [
                        {
                            "start": "2026-12-01T09:00:00+11:00",
                            "end": "2026-12-01T10:00:00+11:00",
                            "practitioner": 3,
                            "location": 1,
                        }
                    ]
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> HttpResponse:
        def question() -> Question:
            query = AvailabilityQuerySerializer(
                data=request.query_params, context={"request": request}
            )
            query.is_valid(raise_exception=True)
            params = query.validated_data
            return Question(
                params["service"],
                params["from"],
                params["to"],
                practitioner=params.get("practitioner"),
                location=params.get("location"),
            )

        # The parameters are read and checked only when no answer is kept for them: only a
        # checked question's answer is kept, and appointments.slot_cache says why it stays
        # right. Being staff or not is all the check asks of the caller (`services_for`).
        online = not is_staff_member(request.user)
        body = available_slots_json(sorted(request.query_params.lists()), question, online=online)
        return HttpResponse(body, content_type="application/json")


# --- appointments -----------------------------------------------------------------------


# The price as the API writes it: a string with two decimal places.
_PRICE = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)


# An appointment as the API answers it. The fields are what the schema says of it (a
# docstring here would become the schema's description); `to_representation` writes them
# by hand from a row of `COLUMNS` (a list's, or `row_of` one appointment): DRF's walk over
# them, and the seven model instances per row it walks, cost more than reading the page.
class AppointmentSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    service = NamedSerializer(read_only=True)
    practitioner = NamedSerializer(read_only=True)
    location = NamedSerializer(read_only=True)
    room = serializers.CharField(source="room.name", read_only=True)
    start = ZonedDateTimeField(
        source="local_start", read_only=True, help_text="In the location's time zone."
    )
    end = ZonedDateTimeField(source="local_end", read_only=True)
    price = _PRICE
    note = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The front desk's note; null for patients, who do not see it.",
    )
    red_flag = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Staff: the patient has red flags no practitioner has cleared yet (see a "
        "practitioner before the session); null for patients.",
    )
    red_flags = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="Those red flags, for those who may read the patient's clinical records "
        "(managers, a practitioner in whose care the patient is); null for everyone else.",
    )
    start_back_risk = serializers.ChoiceField(
        choices=["low", "medium", "high"],
        read_only=True,
        allow_null=True,
        help_text="The patient's latest STarT Back risk group, beside the red flags, for those "
        "who may read the patient's clinical records; null for everyone else and for "
        "patients never screened.",
    )
    rescreen_due = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Clinical readers: the patient's measures were an important worsening twice "
        "in a row since their last STarT Back: screen them again. Null for everyone else.",
    )
    measures_due = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        allow_null=True,
        help_text="Clinical readers: the questionnaires (odi, rmdq, psfs) the patient's plan "
        "has due on the appointment's day; null for everyone else.",
    )
    clash = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Staff: why a booking still to come clashes with its practitioner's working "
        "time (on leave, or outside their hours at the location); null when it does not, and "
        "for patients.",
    )
    clash_decision = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Staff: what was decided when a change of working time made it clash: "
        '"keep" (kept, flagged) or "move" (for reception to move); "" when nothing was; '
        "null for patients.",
    )

    # What a row holds (`values(*COLUMNS)`, or `row_of` an appointment).
    COLUMNS = (
        "id",
        "patient_id",
        "patient__first_name",
        "patient__last_name",
        "service_id",
        "service__name",
        "practitioner_id",
        "practitioner__user_id",
        "practitioner__user__first_name",
        "practitioner__user__last_name",
        "practitioner__user__email",
        "location_id",
        "location__name",
        "location__time_zone",
        "room__name",
        "start",
        "end",
        "status",
        "source",
        "price",
        "note",
        "created_at",
        "rescheduled_at",
        "confirmed_at",
        "cancelled_at",
        "cancellation_reason",
        "clash_decision",
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "service",
            "practitioner",
            "location",
            "room",
            "start",
            "end",
            "status",
            "source",
            "price",
            "note",
            "red_flag",
            "red_flags",
            "start_back_risk",
            "rescreen_due",
            "measures_due",
            "created_at",
            "rescheduled_at",
            "confirmed_at",
            "cancelled_at",
            "cancellation_reason",
            "clash",
            "clash_decision",
        ]
        read_only_fields = fields

    def to_representation(self, appointment: Appointment | Mapping[str, Any]) -> dict[str, Any]:
        """Staff see the front desk's note and whether the patient has open red flags (the
        context's `red_flags`, by patient); those who may read the patient's clinical
        records (`clinical_patients`) also see which."""
        row = appointment if isinstance(appointment, Mapping) else row_of(appointment, self.COLUMNS)
        staff = self.context.get("staff")
        patient_id = row["patient_id"]
        red_flags = self.context.get("red_flags", {})
        clinical = patient_id in self.context.get("clinical_patients", ())
        zone = ZoneInfo(row["location__time_zone"])
        return {
            "id": row["id"],
            "patient": {
                "id": patient_id,
                "name": name_of(
                    self.context,
                    Patient,
                    patient_id,
                    first_name=row["patient__first_name"],
                    last_name=row["patient__last_name"],
                ),
            },
            "service": {"id": row["service_id"], "name": row["service__name"]},
            "practitioner": {
                "id": row["practitioner_id"],
                "name": name_of(
                    self.context,
                    User,  # a practitioner goes by their login's name
                    row["practitioner__user_id"],
                    first_name=row["practitioner__user__first_name"],
                    last_name=row["practitioner__user__last_name"],
                    email=row["practitioner__user__email"],
                ),
            },
            "location": {"id": row["location_id"], "name": row["location__name"]},
            "room": row["room__name"],
            "start": row["start"].astimezone(zone).isoformat(),
            "end": row["end"].astimezone(zone).isoformat(),
            "status": str(row["status"]),
            "source": str(row["source"]),
            "price": _PRICE.to_representation(row["price"]),
            "note": row["note"] if staff else None,
            "red_flag": patient_id in red_flags if staff else None,
            "red_flags": red_flags.get(patient_id, []) if clinical else None,
            "start_back_risk": self.context.get("risks", {}).get(patient_id) if clinical else None,
            "rescreen_due": patient_id in self.context.get("rescreen", ()) if clinical else None,
            "measures_due": measures_due_on(
                self.context.get("schedules", {}), patient_id, row["start"].astimezone(zone).date()
            )
            if clinical
            else None,
            "created_at": moment(row["created_at"]),
            "rescheduled_at": moment(row["rescheduled_at"]),
            "confirmed_at": moment(row["confirmed_at"]),
            "cancelled_at": moment(row["cancelled_at"]),
            "cancellation_reason": row["cancellation_reason"],
            "clash": self.context.get("clashes", {}).get(row["id"]) if staff else None,
            "clash_decision": row["clash_decision"] if staff else None,
        }


class SlotRequestSerializer(Serializer):
    """A time asked for: to book it or to hold it."""

    service = IdRelatedField(queryset=Service.objects.none())
    practitioner = IdRelatedField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user")
    )
    start = ZonedDateTimeField()
    # An open location's id: `book_appointment` checks it with the booking's other facts.
    location = IdField(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["service"].queryset = services_for(self.context["request"].user)
        return fields


_WITH_A_HOLD = "Required unless `hold` is given; with `hold`, leave it out or send the hold's."


class BookingSerializer(SlotRequestSerializer):
    hold = serializers.UUIDField(
        required=False,
        help_text="A live hold's id (`POST /api/v1/holds/`): books the held time and ends "
        "the hold in one transaction. Expired, released or someone else's: 409 "
        "`hold_expired`.",
    )

    def get_fields(self):
        fields = super().get_fields()
        for name in ("service", "practitioner", "start"):
            fields[name].required = False
            fields[name].help_text = _WITH_A_HOLD
        return fields

    def validate(self, attrs):
        if "hold" not in attrs:
            missing = [n for n in ("service", "practitioner", "start") if n not in attrs]
            if missing:
                raise serializers.ValidationError(
                    {name: ["This field is required."] for name in missing}
                )
        return attrs


@extend_schema_field(OpenApiTypes.INT)
class BookablePatientField(IdRelatedField):
    """A patient id, among the active patients the caller may book for."""

    def get_queryset(self):
        return bookable_patients_for(self.context["request"].user)


class BookingRequestSerializer(BookingSerializer):
    """A booking as the schema documents it, for patients and staff alike: `patient` and
    `note` are for staff, who must name the patient; a patient books for themselves and
    sends neither (either is refused from a patient, 400)."""

    patient = BookablePatientField(
        required=False,
        help_text="Staff: required, the patient booked for. Patients: leave it out, they "
        "book for themselves.",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text="Staff only: the front desk's note.",
    )


class StaffBookingSerializer(BookingRequestSerializer):
    patient = BookablePatientField()  # required: staff book for someone


class RescheduleSerializer(Serializer):
    start = ZonedDateTimeField()
    practitioner = IdRelatedField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"),
        required=False,
    )


class CancelSerializer(Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        default="",
        help_text="Required for staff; optional for patients.",
    )


class AppointmentFilter(django_filters.FilterSet):
    to = django_filters.DateFilter(
        method="filter_to", help_text="Starting on or before.", validators=[within_calendar]
    )
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    practitioner = IdFilter(field_name="practitioner_id")

    class Meta:
        model = Appointment
        fields = ["to", "status", "practitioner"]

    def filter_from(self, appointments, name, value: date):
        return appointments.filter(start__gte=clinic_midnight(value))

    def filter_to(self, appointments, name, value: date):
        return appointments.filter(start__lt=clinic_midnight(value + timedelta(days=1)))


AppointmentFilter.base_filters["from"] = django_filters.DateFilter(
    method="filter_from", help_text="Starting on or after.", validators=[within_calendar]
)


class IsPatientOrStaff(BasePermission):
    message = "Only patients and clinic staff have appointments."

    def has_permission(self, request, view) -> bool:
        return bool(roles_of(request.user))


class CalendarRenderer(BaseRenderer):
    """Lets a client that asks for `text/calendar` (Accept) reach the `.ics` action; its
    refusals are still JSON."""

    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return ClinicJSONRenderer().render(data, "application/json", renderer_context)


APPOINTMENT_REFUSED = error_response(
    "The booking rules refused it.",
    ("slot_unavailable", "Dr Mia Myo is already booked at that time."),
    ("new_patient_needs_assessment", "New patients start with an initial assessment."),
    ("inside_cancellation_window", "Appointments cannot be moved online less than 24 hours."),
    ("outside_hours", "Mia Myo is not working for the whole of that time."),
    (
        "session_has_note",
        "This session has a treatment note, so it took place; it cannot be cancelled.",
    ),
    (
        "assessment_has_dependent_bookings",
        "Later bookings rely on this assessment: Myotherapy 45 on Fri 26 Mar 2027 10:00 (#12). "
        "Cancel or move them first, or book another assessment before them.",
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="Appointments",
        description="A patient sees their own; reception and managers every one; a "
        "practitioner their own diary.",
        responses={
            200: AppointmentSerializer(many=True),
        },
    ),
    retrieve=extend_schema(
        summary="One appointment",
        responses={
            200: AppointmentSerializer,
        },
    ),
)
class AppointmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsPatientOrStaff, BooksWithVerifiedEmail]
    filterset_class = AppointmentFilter
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"

    def get_queryset(self):
        appointments = appointments_for(self.request.user).order_by("start", "pk")
        if self.action in ("cancel", "reschedule"):
            # Only found among the caller's here: the service locks the row and reads it,
            # with what it needs, again.
            return appointments.select_related(None).only("pk", "patient_id")
        return appointments

    def filter_queryset(self, queryset):
        # The list's query-string filters; one appointment is found by its id alone (DRF
        # would otherwise build the filter form for every move and cancellation too).
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    serializer_class = AppointmentSerializer

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "staff": self._is_staff(),
        }

    def list(self, request: Request) -> Response:
        rows = PagedRows(self.filter_queryset(self.get_queryset()), AppointmentSerializer.COLUMNS)
        return self.get_paginated_response(self._shown(self.paginate_queryset(rows)).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self._shown(self.get_object()).data)

    def _shown(self, shown: Appointment | Sequence[Mapping[str, Any]]) -> AppointmentSerializer:
        """The answer's appointments (one, or a page of rows) with what staff see beside
        them: the red flags of the patients on it, in one query for the page, and which
        clash with their practitioner's working time (two more)."""
        one = isinstance(shown, Appointment)
        context = self.get_serializer_context()
        if self._is_staff():
            patient_ids = {shown.patient_id} if one else {row["patient_id"] for row in shown}
            context["red_flags"] = open_red_flags_by_patient(patient_ids)
            # The reasons are clinical: only for the patients whose records the user reads.
            context["clinical_patients"] = clinical_patient_ids_among(
                self.request.user, patient_ids
            )
            # Beside the red flags, for the same readers: the STarT Back risk, and whether
            # a re-screen is due.
            context["risks"] = latest_risk_by_patient(context["clinical_patients"])
            context["rescreen"] = rescreen_due_among(context["clinical_patients"])
            context["schedules"] = measure_schedules_among(context["clinical_patients"])
            rows = [row_of(shown, AppointmentSerializer.COLUMNS)] if one else shown
            context["clashes"] = clashes_among(
                Placed(
                    row["id"], row["practitioner_id"], row["location_id"], row["start"], row["end"]
                )
                for row in rows
                if row["status"] in UPCOMING_STATUSES
            )
        return self.get_serializer(shown, many=not one, context=context)

    def _is_staff(self) -> bool:
        return is_staff_member(self.request.user)

    @extend_schema(
        summary="Book an appointment",
        description=(
            "A patient books for themselves (the online rules apply); staff name the "
            "`patient`. Send an `Idempotency-Key` header to make retries safe: the same key "
            "and body return the first answer instead of booking twice."
        ),
        request=BookingRequestSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, description="Any unique string."
            )
        ],
        responses={
            201: AppointmentSerializer,
            403: error_response(
                "A patient whose email address is not confirmed yet cannot book (staff can "
                "book for them); or the login has no patient record.",
                ("email_unverified", BooksWithVerifiedEmail.message),
            ),
            409: APPOINTMENT_REFUSED,
            422: error_response(
                "The Idempotency-Key was used for another request.",
                (
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                ),
            ),
        },
    )
    def create(self, request: Request) -> Response:
        staff = self._is_staff()
        serializer_class = StaffBookingSerializer if staff else BookingSerializer
        booking = serializer_class(data=request.data, context={"request": request})
        booking.is_valid(raise_exception=True)
        data = booking.validated_data
        user = request.user

        hold = _hold_matching(data) if "hold" in data else None

        def book() -> tuple[int, dict]:
            appointment = book_appointment(
                patient=data["patient"] if staff else user.patient,
                service=hold.service if hold else data["service"],
                practitioner=hold.practitioner if hold else data["practitioner"],
                start=hold.start if hold else data["start"],
                location=hold.location if hold else data.get("location"),
                source=booking_source(user),
                created_by=user,
                note=data.get("note", ""),
                hold=hold,
            )
            return status.HTTP_201_CREATED, self._shown(appointment).data

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            code, body = book()
            return Response(body, status=code)
        if len(key) > 255 or not key.isprintable():
            raise serializers.ValidationError(
                {"Idempotency-Key": ["At most 255 printable characters."]}
            )
        (code, body), replayed = book_once(
            user=user, key=key, payload=dict(request.data), book=book
        )
        return Response(body, status=code, headers={"Idempotent-Replayed": str(replayed).lower()})

    @extend_schema(
        summary="The appointment as a calendar file",
        description="`text/calendar` (RFC 5545): one event with a stable UID, the "
        "location's time zone, the service as its summary and the location's name and "
        "address. A cancelled appointment's file says STATUS:CANCELLED.",
        responses={(200, "text/calendar"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], renderer_classes=[ClinicJSONRenderer, CalendarRenderer])
    def ics(self, request: Request, pk: str) -> HttpResponse:
        appointment = self.get_object()
        return HttpResponse(
            calendar_file(appointment),
            content_type="text/calendar; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="appointment-{appointment.pk}.ics"'
            },
        )

    @extend_schema(
        summary="Cancel an appointment",
        description="Inside the cancellation window a patient is refused (409); staff may "
        "cancel, recorded as a late cancellation, and must give a reason.",
        request=CancelSerializer,
        responses={
            200: AppointmentSerializer,
            409: APPOINTMENT_REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        body = CancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cancelled = cancel_appointment(
            appointment=appointment,
            by=request.user,
            reason=body.validated_data["reason"],
            online=not self._is_staff(),
        )
        return Response(self._shown(cancelled).data)

    @extend_schema(
        summary="Confirm an appointment",
        description="The patient says they will come (staff record it for them, say after a "
        "call). Only a booked appointment still ahead; confirming again changes nothing. A "
        "move clears the confirmation.",
        request=None,
        responses={200: AppointmentSerializer, 409: APPOINTMENT_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        confirmed = confirm_appointment(
            appointment=self.get_object(),
            via=ConfirmedVia.RECEPTION if self._is_staff() else ConfirmedVia.PATIENT,
            by=request.user,
        )
        return Response(self._shown(confirmed).data)

    @extend_schema(
        summary="Move an appointment",
        description="Atomic: if the new time is refused the appointment keeps its old one.",
        request=RescheduleSerializer,
        responses={
            200: AppointmentSerializer,
            409: APPOINTMENT_REFUSED,
        },
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        appointment = self.get_object()
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        moved = reschedule_appointment(
            appointment=appointment,
            start=body.validated_data["start"],
            practitioner=body.validated_data.get("practitioner"),
            by=request.user,
            online=not self._is_staff(),
        )
        return Response(self._shown(moved).data)


def _hold_matching(data: Mapping[str, Any]) -> SlotHold:
    """The live hold a booking names, which the booking's other fields, when sent, must
    match (400 naming the field otherwise); 409 `hold_expired` when there is none."""
    hold = held_by(data["hold"])
    if hold is None:
        raise DomainError(
            "hold_expired", "The time was no longer held for you; please pick a time again."
        )
    asked = {
        "service": (data.get("service"), hold.service),
        "practitioner": (data.get("practitioner"), hold.practitioner),
        "start": (data.get("start"), hold.start),
        "location": (data.get("location"), hold.location_id),
    }
    for name, (sent, held) in asked.items():
        if sent is not None and sent != held:
            raise DomainError.invalid(name, ["Not the held time's; leave it out or send it."])
    return hold


# --- holds ------------------------------------------------------------------------------


class HoldSerializer(Serializer):
    id = serializers.UUIDField(help_text="The hold's secret: book with it, or release it.")
    service = serializers.IntegerField(source="service_id")
    practitioner = serializers.IntegerField(source="practitioner_id")
    location = serializers.IntegerField(source="location_id")
    start = ZonedDateTimeField(help_text="In the location's time zone.")
    end = ZonedDateTimeField()
    expires_at = ZonedDateTimeField(help_text="The time is free for others again from then.")

    def to_representation(self, hold: SlotHold) -> dict[str, Any]:
        zone = hold.location.zone
        body = super().to_representation(hold)
        for name in ("start", "end", "expires_at"):
            body[name] = getattr(hold, name).astimezone(zone).isoformat()
        return body


HOLD_REFUSED = error_response(
    "The time cannot be held.",
    ("slot_unavailable", "That time with Mia Myo is held for someone else."),
    ("inside_lead_time", "Online bookings must be made at least 120 minutes ahead."),
    ("outside_hours", "Mia Myo is not working for the whole of that time."),
    ("new_patient_needs_assessment", "New patients start with an initial assessment."),
)


class HoldView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"

    @extend_schema(
        summary="Hold a free time for a few minutes",
        description=(
            "Keeps the time for the caller while they sign in or register and fill the "
            "intake: availability no longer offers it and nobody else can book or hold it "
            "until `expires_at` (`hold_minutes` of GET /api/v1/clinic/) or its release. The "
            "online booking rules apply as to a booking. Anyone may hold: a signed-in "
            "patient (their rules too: the new-patient rule, their record), or a visitor. "
            "A patient may hold a few times at once, a visitor's address as many; over "
            "that 429 `too_many_holds`. Book it with `POST /api/v1/appointments/` "
            '`{"hold": "<id>"}`.'
        ),
        tags=["appointments"],
        request=SlotRequestSerializer,
        responses={
            201: HoldSerializer,
            409: HOLD_REFUSED,
            429: error_response(
                "Too many live holds.",
                ("too_many_holds", "At most 2 times can be held at once."),
            ),
        },
    )
    def post(self, request: Request) -> Response:
        asked = SlotRequestSerializer(data=request.data, context={"request": request})
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        patient = request.user.patient if Role.PATIENT in roles_of(request.user) else None
        hold = hold_slot(
            service=data["service"],
            practitioner=data["practitioner"],
            start=data["start"],
            location=data.get("location"),
            patient=patient,
            client_ip=source_address(request),
        )
        return Response(HoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class HoldDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Release a hold",
        description="The time is free again at once. Whoever has the id may release it; "
        "an unknown, expired or released hold answers 204 too.",
        tags=["appointments"],
        responses={204: None},
    )
    def delete(self, request: Request, pk: UUID) -> Response:
        release_hold(hold_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


def booking_source(user) -> str:
    roles = roles_of(user)
    if roles & {Role.RECEPTION, Role.MANAGER}:
        return Source.RECEPTION
    if Role.PRACTITIONER in roles:
        return Source.PRACTITIONER
    if Role.PATIENT in roles:
        return Source.ONLINE
    raise PermissionDenied()
