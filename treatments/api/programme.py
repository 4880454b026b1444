"""The home programme over HTTP: the clinic's exercise library (for clinicians), the
exercises a practitioner prescribes as part of a patient's plan, the patient's own view of
their programme and their logs of what they did, and the logs as clinicians read them.

Prescribing is a clinician's act: a practitioner who treats the patient
(`treatments.selectors.treats`, asked by the services), with the group permission the admin
asks for; managers read. A prescription is kept as written: changing its dose (`revise`)
stops it and starts a new version, so the answer is a new record (201). A patient reads
only their own programme and logs, through `/patients/me/...`; anyone else's log id is 404.
"""

from decimal import Decimal

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import IsPatient
from audit.mixins import AuditedMixin
from audit.models import Action
from audit.services import record
from kernel.rest import (
    IdFilter,
    IdRelatedField,
    ModelSerializer,
    NamedSerializer,
    Serializer,
    error_response,
)

from ..models import BodyRegion, Exercise, ExerciseCategory, HomeExercise, HomeExerciseLog
from ..selectors import (
    adherence_of,
    exercise_library,
    home_exercise_logs_for,
    home_exercises_for,
    own_exercise_logs,
    plans_for,
    prescriptions_of,
    programme_of,
)
from ..services import (
    LOG_EDITABLE_DAYS,
    correct_home_exercise_log,
    log_home_exercise,
    prescribe_home_exercise,
    revise_home_exercise,
    stop_home_exercise,
)
from .common import (
    CLINICAL_TAGS,
    CanReadClinicalRecords,
    ClinicalRecordViewSet,
    NamedChoiceField,
    NumberField,
    score_field,
)

PATIENT_TAGS = ["patients"]
NOTE_LENGTH = 500

# --- the library -------------------------------------------------------------------------


class LibraryExerciseSerializer(ModelSerializer):
    category = NamedChoiceField(ExerciseCategory, read_only=True)
    body_region = NamedChoiceField(BodyRegion, read_only=True)
    default_load_kg = NumberField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)

    class Meta:
        model = Exercise
        fields = [
            "id",
            "name",
            "instructions",
            "category",
            "body_region",
            "default_sets",
            "default_reps",
            "default_load_kg",
            "active",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="The clinic's exercise library",
        description="The exercises practitioners prescribe for home, by name. Retired ones "
        "too with `all=true`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One exercise of the library", tags=CLINICAL_TAGS),
)
class ExerciseViewSet(viewsets.ReadOnlyModelViewSet):
    """Not patient data: for every clinician; edited in the admin."""

    permission_classes = [IsAuthenticated, CanReadClinicalRecords]
    serializer_class = LibraryExerciseSerializer

    def get_queryset(self):
        everything = self.action != "list" or self.request.query_params.get("all") == "true"
        return exercise_library(active_only=not everything)


# --- prescriptions -------------------------------------------------------------------------


class _ExerciseNameSerializer(ModelSerializer):
    class Meta:
        model = Exercise
        fields = ["id", "name", "instructions"]
        read_only_fields = fields


class ReviseSerializer(Serializer):
    """The new dose; what is left out stays as it was."""

    sets = serializers.IntegerField(min_value=1, max_value=20, required=False)
    reps = serializers.IntegerField(
        min_value=1, max_value=200, required=False, help_text="Or seconds for a hold."
    )
    load_kg = NumberField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("500"),
        required=False,
        allow_null=True,
        help_text="Null: body weight.",
    )
    times_per_week = serializers.IntegerField(min_value=1, max_value=7, required=False)
    notes = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True)


class HomeExerciseSerializer(ModelSerializer):
    patient = NamedSerializer(source="plan.patient", read_only=True)
    exercise = _ExerciseNameSerializer(read_only=True)
    prescribed_by = NamedSerializer(read_only=True)
    load_kg = NumberField(max_digits=5, decimal_places=1, read_only=True, allow_null=True)

    class Meta:
        model = HomeExercise
        fields = [
            "id",
            "plan",
            "patient",
            "exercise",
            "sets",
            "reps",
            "load_kg",
            "times_per_week",
            "notes",
            "started_on",
            "stopped_on",
            "prescribed_by",
            "prescribed_at",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class VisiblePlanField(IdRelatedField):
    def get_queryset(self):
        return plans_for(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class LibraryExerciseField(IdRelatedField):
    def get_queryset(self):
        return exercise_library(active_only=False)


class PrescribeSerializer(ReviseSerializer):
    """An exercise of the library for the plan's home programme; sets, reps and load default
    to the library's."""

    plan = VisiblePlanField()
    exercise = LibraryExerciseField()
    started_on = serializers.DateField(required=False, help_text="Today if left out.")
    times_per_week = serializers.IntegerField(min_value=1, max_value=7)


class HomeExerciseFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="plan__patient_id")
    plan = IdFilter(field_name="plan_id")
    current = django_filters.BooleanFilter(method="filter_current", label="current")

    class Meta:
        model = HomeExercise
        fields = ["patient", "plan", "current"]

    def filter_current(self, queryset, name, value):
        current = queryset.filter(stopped_on__isnull=True)
        return current if value else queryset.exclude(pk__in=current.values("pk"))


PRESCRIPTION_REFUSED = error_response(
    "The programme's rules refused it.",
    ("already_prescribed", "This exercise is already in the programme: change it instead."),
    ("home_exercise_stopped", "This prescription was stopped; it is final."),
    ("plan_closed", "Only an active plan takes a home programme."),
)
NOT_TREATING = error_response(
    "Only a practitioner who treats the patient prescribes.",
    ("not_treating_practitioner", "Only a practitioner who treats the patient prescribes."),
)


@extend_schema_view(
    list=extend_schema(
        summary="Home exercises prescribed",
        description="The home programmes of the patients you treat (managers: every "
        "patient's), every version of each prescription. Filters: `patient`, `plan`, "
        "`current` (not stopped).",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One prescribed home exercise", tags=CLINICAL_TAGS),
)
class HomeExerciseViewSet(ClinicalRecordViewSet):
    serializer_class = HomeExerciseSerializer
    filterset_class = HomeExerciseFilter
    http_method_names = ["get", "post", "head", "options"]
    write_permissions = {
        "create": "treatments.add_homeexercise",
        "revise": "treatments.add_homeexercise",
        "stop": "treatments.change_homeexercise",
    }

    def get_queryset(self):
        return home_exercises_for(self.request.user).order_by("plan_id", "started_on", "pk")

    @extend_schema(
        summary="Prescribe a home exercise",
        description="Adds an exercise of the library to an active plan's home programme, "
        "for a patient you treat.",
        tags=CLINICAL_TAGS,
        request=PrescribeSerializer,
        responses={201: HomeExerciseSerializer, 403: NOT_TREATING, 409: PRESCRIPTION_REFUSED},
    )
    def create(self, request: Request) -> Response:
        body = PrescribeSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        home_exercise = prescribe_home_exercise(by=request.user, **data)
        return self._answer(home_exercise, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a home exercise's dose",
        description="Stops the prescription today and starts a new version with the new "
        "dose (the answer, 201): the programme keeps what was prescribed when.",
        tags=CLINICAL_TAGS,
        request=ReviseSerializer,
        responses={201: HomeExerciseSerializer, 403: NOT_TREATING, 409: PRESCRIPTION_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: str) -> Response:
        home_exercise = self.get_object()
        body = ReviseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revised = revise_home_exercise(
            home_exercise=home_exercise, changes=dict(body.validated_data), by=request.user
        )
        # The answer is the new version (its CREATE entry); the version it stopped changed too.
        record(
            Action.UPDATE,
            request=request,
            obj=home_exercise,
            detail={"path": request.path, "fields": ["stopped_on"]},
        )
        return self._answer(revised, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a home exercise off the programme",
        tags=CLINICAL_TAGS,
        request=None,
        responses={200: HomeExerciseSerializer, 403: NOT_TREATING, 409: PRESCRIPTION_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, pk: str) -> Response:
        home_exercise = stop_home_exercise(home_exercise=self.get_object(), by=request.user)
        return self._answer(home_exercise)


# --- logs ----------------------------------------------------------------------------------


class HomeExerciseLogSerializer(ModelSerializer):
    exercise = NamedSerializer(read_only=True)

    class Meta:
        model = HomeExerciseLog
        fields = [
            "id",
            "home_exercise",
            "exercise",
            "done_on",
            "sets_done",
            "reps_done",
            "pain",
            "note",
            "logged_at",
            "updated_at",
        ]
        read_only_fields = fields


class LogFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    done_from = django_filters.DateFilter(field_name="done_on", lookup_expr="gte")
    done_to = django_filters.DateFilter(field_name="done_on", lookup_expr="lte")

    class Meta:
        model = HomeExerciseLog
        fields = ["patient", "done_from", "done_to"]


@extend_schema_view(
    list=extend_schema(
        summary="Home exercise logs",
        description="What the patients you treat (managers: every patient) logged of their "
        "home programmes, latest day first. Filters: `patient`, `done_from`, `done_to`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One home exercise log", tags=CLINICAL_TAGS),
)
class HomeExerciseLogViewSet(ClinicalRecordViewSet):
    """Read-only for clinicians: the patient writes them."""

    serializer_class = HomeExerciseLogSerializer
    filterset_class = LogFilter

    def get_queryset(self):
        return home_exercise_logs_for(self.request.user).order_by("-done_on", "pk")


# --- the patient's own ---------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class MyHomeExerciseField(IdRelatedField):
    """An exercise of the signed-in patient's programmes (any version: a day they forgot)."""

    def get_queryset(self):
        return prescriptions_of(self.context["request"].user.patient)


class LogSerializer(Serializer):
    home_exercise = MyHomeExerciseField(help_text="The `id` of an exercise of your programme.")
    done_on = serializers.DateField(
        required=False,
        help_text=f"Today if left out; up to {LOG_EDITABLE_DAYS} days back.",
    )
    sets_done = serializers.IntegerField(min_value=0, max_value=50)
    reps_done = serializers.IntegerField(min_value=0, max_value=500)
    pain = score_field(required=False, allow_null=True, help_text="Pain during it, 0 to 10.")
    note = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True)


class LogCorrectionSerializer(Serializer):
    sets_done = serializers.IntegerField(min_value=0, max_value=50, required=False)
    reps_done = serializers.IntegerField(min_value=0, max_value=500, required=False)
    pain = score_field(required=False, allow_null=True)
    note = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True)


class WeekAdherenceSerializer(Serializer):
    week_of = serializers.DateField(read_only=True, help_text="The Monday.")
    prescribed = serializers.IntegerField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    percent = serializers.IntegerField(read_only=True)


class MyProgrammeSerializer(Serializer):
    today = serializers.DateField(read_only=True, help_text="The clinic's today: a log's day.")
    exercises = HomeExerciseSerializer(many=True, read_only=True)
    adherence = WeekAdherenceSerializer(many=True, read_only=True)
    log_editable_days = serializers.IntegerField(read_only=True)


class MyProgrammeView(AuditedMixin, GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = MyProgrammeSerializer

    @extend_schema(
        summary="My home programme",
        description="The exercises your practitioner prescribed for home, as they stand "
        "today, and how many of the prescribed times you did each week.",
        tags=PATIENT_TAGS,
        responses={200: MyProgrammeSerializer},
    )
    def get(self, request: Request) -> Response:
        patient = request.user.patient
        exercises = list(programme_of(patient))
        self.audit_shown(*exercises)
        adherence = adherence_of(prescriptions_of(patient), timezone.localdate())
        body = {
            "today": timezone.localdate(),
            "exercises": exercises,
            "adherence": adherence,
            "log_editable_days": LOG_EDITABLE_DAYS,
        }
        return Response(MyProgrammeSerializer(body).data)


LOG_REFUSED = error_response(
    "The log's rules refused it.",
    ("already_logged", "You logged this exercise for that day already."),
    ("log_closed", "A log is corrected within a few days of its day."),
)


@extend_schema_view(
    list=extend_schema(
        summary="My home exercise logs", description="Latest day first.", tags=PATIENT_TAGS
    ),
    retrieve=extend_schema(summary="One of my home exercise logs", tags=PATIENT_TAGS),
)
class MyExerciseLogViewSet(
    AuditedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = HomeExerciseLogSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return own_exercise_logs(self.request.user)

    @extend_schema(
        summary="Log a home exercise",
        description=f"What you did of an exercise of your programme, today or up to "
        f"{LOG_EDITABLE_DAYS} days back; once per exercise per day (409 `already_logged`: "
        "change that log instead).",
        tags=PATIENT_TAGS,
        request=LogSerializer,
        responses={201: HomeExerciseLogSerializer, 409: LOG_REFUSED},
    )
    def create(self, request: Request) -> Response:
        body = LogSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        data.setdefault("done_on", timezone.localdate())
        log = log_home_exercise(patient=request.user.patient, **data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=log.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Correct one of my home exercise logs",
        description=f"Within {LOG_EDITABLE_DAYS} days of the day it records (409 `log_closed`).",
        tags=PATIENT_TAGS,
        request=LogCorrectionSerializer,
        responses={200: HomeExerciseLogSerializer, 409: LOG_REFUSED},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        log = self.get_object()
        body = LogCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        log = correct_home_exercise_log(log=log, changes=dict(body.validated_data))
        return Response(self.get_serializer(self.get_queryset().get(pk=log.pk)).data)
