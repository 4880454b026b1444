"""Clinical records over HTTP: thin views over `treatments.services` (what changes state)
and `treatments.selectors` (who sees what).

Clinical endpoints are for practitioners and managers (`CanReadClinicalRecords`): reception
gets 403, and so does a patient, except for submitting their own intake questionnaire. A
practitioner sees the records of the patients they treat; anything else answers 404 and is
left out of lists. Writing needs the same group permission that the admin asks for
(`HoldsTheAdminsPermission`): a manager reads every record and adjusts plans, but enters no
intake or score and clears no red flag (403). Writing a note or starting a plan needs a
practitioner record (the note's author, the plan's practitioner); only a draft's author edits
or signs it (the services refuse anyone else with 409 `not_the_author`).

Every request body has its own serializer that lists exactly what a client may set: the
author, the patient of a note, signing times, statuses set by actions, ids and computed
scores are never taken from the body.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

import django_filters
from django.db import models, transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import IsPatient
from accounts.models import User
from accounts.roles import Role, is_clinical, roles_of
from appointments.models import Appointment
from audit.mixins import AuditedMixin
from kernel.rest import (
    CalendarDateField,
    IdFilter,
    IdRelatedField,
    ModelSerializer,
    NamedSerializer,
    ZonedDateTimeField,
    clinic_midnight,
    error_response,
    within_calendar,
)
from practice.models import Practitioner

from .models import (
    ODI_SECTIONS,
    ActivityProfile,
    Addendum,
    ExerciseEntry,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanPhase,
    PlanStatus,
    PostureFinding,
    RedFlag,
    RedFlagClearance,
    SciaticaSymptom,
    SymptomDuration,
    SymptomLocation,
    TreatedRegion,
    TreatmentNote,
    TreatmentPlan,
)
from .selectors import (
    clinical_patients_for,
    intakes_for,
    notes_for,
    outcomes_for,
    plans_for,
    sessions_to_write_up_for,
)
from .services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
    update_plan,
)

MAX_TEXT = 20_000  # characters of one free-text answer
MAX_EXERCISES = 50  # entries in one session's exercise log
CLINICAL_TAGS = ["clinical records"]


# --- who may ---------------------------------------------------------------------------


class CanReadClinicalRecords(BasePermission):
    """Practitioners and managers; which patients' records each sees is the selectors'
    business (`treatments.selectors.clinical_patients_for`)."""

    message = "Clinical records are for practitioners and managers."

    def has_permission(self, request, view) -> bool:
        return is_clinical(request.user)


class HoldsTheAdminsPermission(BasePermission):
    """A write needs the Django permission that the admin asks for the same act, from the
    user's role group (`accounts.permissions`): one rule per action, whichever door. Reading
    is `CanReadClinicalRecords`'; which patients, the selectors'; and the services keep the
    rules of each record (a note's author, a clearance by a practitioner who treats the
    patient). Each view names the permission of each of its write actions in
    `write_permissions`; a write action it does not name is refused."""

    message = "Your role may read these records but not write them."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or view.action is None:
            return True  # reads; or a method the view does not offer (DRF answers 405)
        needed = view.write_permissions.get(view.action)
        return needed is not None and request.user.has_perm(needed)


class ClinicalRecordViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Clinical records: read by those who may (the selectors decide which patients'),
    answered as they now stand in the database; every read and change audited."""

    permission_classes = [IsAuthenticated, CanReadClinicalRecords, HoldsTheAdminsPermission]
    write_permissions: dict[str, str] = {}

    def _answer(self, record, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=code
        )


def practitioner_of(user: User) -> Practitioner:
    """The practitioner record of a user who writes as a practitioner, or 403."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None or Role.PRACTITIONER not in roles_of(user):
        raise PermissionDenied("Only practitioners write notes and plans.")
    return practitioner


# --- shared fields ---------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice among the values of one of the models' choice classes, documented as one
    enum component named after that class (`PhaseEnum`, `RedFlagEnum`...) wherever it is
    used. drf-spectacular would name enums after fields instead, and warn (failing
    `spectacular --fail-on-warn`) when one set has two names (`pain_locations`,
    `symptom_locations`) or one name two sets (`status`)."""

    def __init__(self, enum: type[models.TextChoices], **kwargs):
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    """A `$ref` to the enum's component, registered on first use."""

    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        enum = self.target.enum
        name = f"{enum.__name__}Enum"
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema={
                "type": "string",
                "enum": list(enum.values),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in enum.choices),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class NumberField(serializers.DecimalField):
    """A decimal read and written as a JSON number (e.g. 30.5, not "30.5")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


class NumberFieldSchema(OpenApiSerializerFieldExtension):
    """Its bounds as JSON numbers: drf-spectacular copies DRF's `Decimal` bounds as they are."""

    target_class = NumberField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {k: float(v) if isinstance(v, Decimal) else v for k, v in schema.items()}


class ChoiceListField(serializers.ListField):
    """A 'tick all that apply' answer: a list of distinct values of one set of choices."""

    def __init__(self, enum: type[models.TextChoices], **kwargs):
        kwargs.setdefault("child", NamedChoiceField(enum))
        kwargs.setdefault("max_length", len(enum.choices))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if len(set(values)) != len(values):
            raise serializers.ValidationError("Give each choice at most once.")
        return values


def _text(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("max_length", MAX_TEXT)
    return serializers.CharField(**kwargs)


def _score(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=10, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePatientField(IdRelatedField):
    """A patient id, among the patients whose clinical records the caller may see."""

    def get_queryset(self):
        return clinical_patients_for(self.context["request"].user)


def _not_in_future(value: datetime) -> datetime:
    if value > timezone.now():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


def _not_after_today(value: date) -> date:
    if value > timezone.localdate():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


# --- treatment notes -------------------------------------------------------------------


class ExerciseSerializer(ModelSerializer):
    """One exercise of the session's log, in the order given."""

    exercise = serializers.CharField(max_length=100, help_text="e.g. Back squat, Deadlift.")
    sets = serializers.IntegerField(min_value=0, max_value=50)
    reps = serializers.IntegerField(min_value=0, max_value=500)
    load_kg = NumberField(
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
    )
    effort = serializers.IntegerField(min_value=1, max_value=10, help_text="RPE, 1 to 10.")
    guarded = serializers.BooleanField(
        required=False, default=False, help_text="Held back or refused for fear of old pain."
    )
    comment = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")

    class Meta:
        model = ExerciseEntry
        fields = ["exercise", "sets", "reps", "load_kg", "effort", "guarded", "comment"]
        read_only_fields: list[str] = []  # the note and the position come from the log


class NoteAppointmentSerializer(ModelSerializer):
    service = serializers.CharField(source="service.name", read_only=True)
    location = serializers.CharField(source="location.name", read_only=True)
    start = ZonedDateTimeField(source="local_start", read_only=True)
    end = ZonedDateTimeField(source="local_end", read_only=True)

    class Meta:
        model = Appointment
        fields = ["id", "start", "end", "service", "location"]
        read_only_fields = fields


class AddendumSerializer(ModelSerializer):
    author = NamedSerializer(read_only=True)

    class Meta:
        model = Addendum
        fields = ["id", "author", "created_at", "text"]
        read_only_fields = fields


class TreatmentNoteSerializer(ModelSerializer):
    """A session's SOAP note as stored; nothing here is written through this serializer."""

    appointment = NoteAppointmentSerializer(read_only=True)
    patient = NamedSerializer(source="appointment.patient", read_only=True)
    author = NamedSerializer(read_only=True)
    status = serializers.SerializerMethodField(help_text="`draft` or `signed` (final).")
    pain_locations = ChoiceListField(SymptomLocation, read_only=True)
    posture_findings = ChoiceListField(PostureFinding, read_only=True)
    regions_treated = ChoiceListField(TreatedRegion, read_only=True)
    exercises = ExerciseSerializer(many=True, read_only=True)
    addenda = AddendumSerializer(many=True, read_only=True)

    class Meta:
        model = TreatmentNote
        fields = [
            "id",
            "appointment",
            "patient",
            "author",
            "status",
            "subjective",
            "pain_score",
            "pain_locations",
            "posture_findings",
            "regions_treated",
            "objective",
            "assessment",
            "plan",
            "exercises",
            "addenda",
            "created_at",
            "updated_at",
            "signed_at",
        ]
        read_only_fields = fields

    def get_status(self, note: TreatmentNote) -> str:
        return "signed" if note.is_signed else "draft"


class TreatmentNoteChangeSerializer(serializers.Serializer):
    """What the author may write in a draft, every field optional. `exercises`, when sent,
    replaces the log with complete entries."""

    subjective = _text(help_text="What the patient reports.")
    pain_score = _score(required=False, allow_null=True)
    pain_locations = ChoiceListField(SymptomLocation)
    posture_findings = ChoiceListField(PostureFinding)
    regions_treated = ChoiceListField(TreatedRegion)
    objective = _text(help_text="Findings and treatment, in words.")
    assessment = _text()
    plan = _text()
    exercises = ExerciseSerializer(many=True, required=False, max_length=MAX_EXERCISES)


@extend_schema_field(OpenApiTypes.INT)
class OwnSessionField(IdRelatedField):
    """An appointment id, among the sessions whose note the caller may start."""

    def get_queryset(self):
        return sessions_to_write_up_for(self.context["request"].user)


class TreatmentNoteCreateSerializer(TreatmentNoteChangeSerializer):
    """Start the draft note of a session of yours, optionally with its first answers."""

    appointment = OwnSessionField(help_text="A session of yours (you are its practitioner).")


class AddendumCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=MAX_TEXT)


class NoteFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="appointment__patient_id")
    appointment = IdFilter(field_name="appointment_id")
    to = django_filters.DateFilter(
        method="filter_to", help_text="Sessions on or before.", validators=[within_calendar]
    )
    signed = django_filters.BooleanFilter(
        method="filter_signed", help_text="true: signed notes; false: drafts."
    )

    class Meta:
        model = TreatmentNote
        fields = ["patient", "appointment", "to", "signed"]

    def filter_from(self, notes, name, value: date):
        return notes.filter(appointment__start__gte=clinic_midnight(value))

    def filter_to(self, notes, name, value: date):
        return notes.filter(appointment__start__lt=clinic_midnight(value + timedelta(days=1)))

    def filter_signed(self, notes, name, value: bool | None):
        if value is None:
            return notes
        return notes.filter(signed_at__isnull=not value)


# `from` is a Python keyword, so it cannot be a class attribute.
NoteFilter.base_filters["from"] = django_filters.DateFilter(
    method="filter_from", help_text="Sessions on or after.", validators=[within_calendar]
)

NOTE_REFUSED = error_response(
    "The note's rules refused it.",
    ("note_signed", "A signed note is final; add an addendum instead."),
    ("not_the_author", "Only the note's author edits or signs a draft."),
    ("note_exists", "This session already has a note."),
    (
        "not_a_session",
        "Notes are written for sessions that have started and were not cancelled or missed.",
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary="Treatment notes",
        description="Notes of the patients you treat (managers: every patient's), latest "
        "session first. Filters: `patient`, `appointment`, `from`/`to` (session dates), "
        "`signed`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One treatment note", tags=CLINICAL_TAGS),
)
class TreatmentNoteViewSet(ClinicalRecordViewSet):
    """Notes are never deleted and a signed note never changes: no PUT, no DELETE."""

    serializer_class = TreatmentNoteSerializer
    filterset_class = NoteFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_permissions = {
        "create": "treatments.add_treatmentnote",
        "partial_update": "treatments.change_treatmentnote",
        "sign": "treatments.change_treatmentnote",
        "addenda": "treatments.add_addendum",
    }

    def get_queryset(self):
        return notes_for(self.request.user).order_by("-appointment__start", "-pk")

    @extend_schema(
        summary="Start a session's note",
        description="The practitioner of a session opens its draft note (one per session), "
        "optionally with SOAP answers and the exercise log.",
        tags=CLINICAL_TAGS,
        request=TreatmentNoteCreateSerializer,
        responses={201: TreatmentNoteSerializer, 409: NOTE_REFUSED},
    )
    def create(self, request: Request) -> Response:
        author = practitioner_of(request.user)
        body = TreatmentNoteCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        appointment = changes.pop("appointment")
        exercises = changes.pop("exercises", None)
        with transaction.atomic():
            note = start_note(appointment=appointment, author=author)
            if changes or exercises is not None:
                note = update_draft(note=note, author=author, changes=changes, exercises=exercises)
        return self._answer(note, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a draft note",
        description="Only the author, only while it is a draft: a signed note answers 409 "
        "`note_signed` (add an addendum instead). `exercises`, when sent, replaces the log.",
        tags=CLINICAL_TAGS,
        request=TreatmentNoteChangeSerializer,
        responses={200: TreatmentNoteSerializer, 409: NOTE_REFUSED},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        author = practitioner_of(request.user)
        note = self.get_object()
        # Every field is optional; not `partial`, which would also let through incomplete
        # exercise entries (DRF skips required nested fields in partial updates).
        body = TreatmentNoteChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        exercises = changes.pop("exercises", None)
        note = update_draft(note=note, author=author, changes=changes, exercises=exercises)
        return self._answer(note)

    @extend_schema(
        summary="Sign a draft note",
        description="Its author locks the note for ever; its pain score joins the patient's "
        "outcome series.",
        tags=CLINICAL_TAGS,
        request=None,
        responses={200: TreatmentNoteSerializer, 409: NOTE_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        author = practitioner_of(request.user)
        note = sign_note(note=self.get_object(), author=author)
        return self._answer(note)

    @extend_schema(
        summary="Add an addendum to a signed note",
        description="Corrects or adds to a signed note; the note stays as it was signed.",
        tags=CLINICAL_TAGS,
        request=AddendumCreateSerializer,
        responses={
            201: AddendumSerializer,
            409: error_response(
                "Drafts take no addenda.",
                ("note_not_signed", "A draft is edited directly; addenda amend signed notes."),
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def addenda(self, request: Request, pk: str) -> Response:
        author = practitioner_of(request.user)
        note = self.get_object()
        body = AddendumCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        addendum = add_addendum(note=note, author=author, text=body.validated_data["text"])
        return Response(AddendumSerializer(addendum).data, status=status.HTTP_201_CREATED)


# --- treatment plans -------------------------------------------------------------------


class PlanPhaseSerializer(ModelSerializer):
    """A phase of the plan: planned sessions and frequency; dates are set as the plan moves."""

    phase = NamedChoiceField(Phase)
    planned_sessions = serializers.IntegerField(min_value=0, max_value=100)
    sessions_per_week = NumberField(
        max_digits=3,
        decimal_places=1,
        min_value=Decimal("0.1"),
        max_value=Decimal("7"),
        help_text="0.5 = fortnightly.",
    )

    class Meta:
        model = PlanPhase
        fields = ["phase", "planned_sessions", "sessions_per_week", "started_on", "ended_on"]
        read_only_fields = ["started_on", "ended_on"]


class TreatmentPlanSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    practitioner = NamedSerializer(read_only=True)
    status = NamedChoiceField(PlanStatus, read_only=True)
    current_phase = NamedChoiceField(Phase, read_only=True)
    phases = PlanPhaseSerializer(many=True, read_only=True)

    class Meta:
        model = TreatmentPlan
        fields = [
            "id",
            "patient",
            "practitioner",
            "goals",
            "status",
            "current_phase",
            "maintenance_interval_weeks",
            "maintenance_started_at",
            "phases",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TreatmentPlanChangeSerializer(serializers.Serializer):
    goals = serializers.CharField(max_length=MAX_TEXT, required=False)
    maintenance_interval_weeks = serializers.IntegerField(min_value=1, max_value=52, required=False)
    status = NamedChoiceField(
        PlanStatus,
        required=False,
        help_text="An active plan may be completed or discontinued; a closed plan stays closed.",
    )


class TreatmentPlanCreateSerializer(serializers.Serializer):
    """A new course of care for a patient you treat; you are its practitioner."""

    patient = VisiblePatientField()
    goals = serializers.CharField(max_length=MAX_TEXT)
    maintenance_interval_weeks = serializers.IntegerField(
        min_value=1, max_value=52, required=False, default=6
    )
    phases = PlanPhaseSerializer(many=True, required=False, max_length=len(Phase.choices))

    def validate_phases(self, phases: list[dict]) -> list[dict]:
        names = [phase["phase"] for phase in phases]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Plan each phase at most once.")
        return phases


class PlanMoveSerializer(serializers.Serializer):
    phase = NamedChoiceField(Phase)


class PlanFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices)

    class Meta:
        model = TreatmentPlan
        fields = ["patient", "status"]


PLAN_REFUSED = error_response(
    "The plan's rules refused it.",
    ("plan_active", "This patient already has an active treatment plan."),
    ("plan_closed", "A completed or discontinued plan stays closed; start a new plan."),
    ("invalid_phase", "Only an active plan moves between phases."),
)


@extend_schema_view(
    list=extend_schema(
        summary="Treatment plans",
        description="Plans of the patients you treat (managers: every patient's), newest "
        "first. Filters: `patient`, `status`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One treatment plan", tags=CLINICAL_TAGS),
)
class TreatmentPlanViewSet(ClinicalRecordViewSet):
    """Plans are closed (completed, discontinued), never deleted. Anyone who may see a plan
    (the patient's practitioners, managers) may change it."""

    serializer_class = TreatmentPlanSerializer
    filterset_class = PlanFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    write_permissions = {
        "create": "treatments.add_treatmentplan",
        "partial_update": "treatments.change_treatmentplan",
        "phase": "treatments.change_treatmentplan",
    }

    def get_queryset(self):
        return plans_for(self.request.user).order_by("-created_at", "-pk")

    @extend_schema(
        summary="Start a treatment plan",
        description="A course of care for a patient you treat, with you as its practitioner; "
        "one active plan per patient. It starts in the assess phase.",
        tags=CLINICAL_TAGS,
        request=TreatmentPlanCreateSerializer,
        responses={201: TreatmentPlanSerializer, 409: PLAN_REFUSED},
    )
    def create(self, request: Request) -> Response:
        practitioner = practitioner_of(request.user)
        body = TreatmentPlanCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        plan = create_plan(
            patient=data["patient"],
            practitioner=practitioner,
            goals=data["goals"],
            phases=data.get("phases", []),
            maintenance_interval_weeks=data["maintenance_interval_weeks"],
        )
        return self._answer(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a plan's goals, maintenance interval or status",
        tags=CLINICAL_TAGS,
        request=TreatmentPlanChangeSerializer,
        responses={200: TreatmentPlanSerializer, 409: PLAN_REFUSED},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        plan = self.get_object()
        body = TreatmentPlanChangeSerializer(data=request.data)  # every field optional
        body.is_valid(raise_exception=True)
        plan = update_plan(plan=plan, changes=dict(body.validated_data), by=request.user)
        return self._answer(plan)

    @extend_schema(
        summary="Move a plan to a phase of the pathway",
        description="Ends the current phase and starts the given one today; entering "
        "`maintain` starts the maintenance-visit prompts' clock.",
        tags=CLINICAL_TAGS,
        request=PlanMoveSerializer,
        responses={200: TreatmentPlanSerializer, 409: PLAN_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def phase(self, request: Request, pk: str) -> Response:
        plan = self.get_object()
        body = PlanMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = move_plan_to_phase(plan=plan, phase=body.validated_data["phase"], by=request.user)
        return self._answer(plan)


# --- outcome measures ------------------------------------------------------------------


class OutcomeMeasureSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    kind = NamedChoiceField(MeasureKind, read_only=True)
    value = NumberField(
        max_digits=4,
        decimal_places=1,
        read_only=True,
        help_text="Pain 0-10, or the ODI percentage computed from the answers.",
    )
    odi_answers = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        allow_null=True,
        read_only=True,
        help_text="The ten ODI sections, 0-5 each, null where unanswered; null for pain.",
    )
    recorded_at = serializers.DateTimeField(read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeMeasure
        fields = [
            "id",
            "patient",
            "kind",
            "value",
            "odi_answers",
            "recorded_at",
            "recorded_by",
            "appointment",
        ]
        read_only_fields = fields

    def get_recorded_by(self, measure: OutcomeMeasure) -> str | None:
        return measure.recorded_by.display_name if measure.recorded_by is not None else None


class OutcomeMeasureCreateSerializer(serializers.Serializer):
    """A pain score (`value`, 0-10) or an ODI questionnaire (`odi_answers`), never both:
    the ODI percentage is computed by the server."""

    patient = VisiblePatientField()
    kind = NamedChoiceField(MeasureKind)
    value = _score(required=False, help_text="Pain only: 0 (none) to 10 (worst).")
    odi_answers = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=5, allow_null=True),
        min_length=len(ODI_SECTIONS),
        max_length=len(ODI_SECTIONS),
        required=False,
        help_text="ODI only: the ten sections in order ("
        + ", ".join(ODI_SECTIONS)
        + "), 0-5 each, null where unanswered (at most two).",
    )
    recorded_at = ZonedDateTimeField(
        required=False, validators=[_not_in_future], help_text="Default: now."
    )

    def validate(self, attrs):
        if attrs["kind"] == MeasureKind.PAIN:
            if "odi_answers" in attrs:
                raise serializers.ValidationError({"odi_answers": ["Only for the ODI."]})
            if "value" not in attrs:
                raise serializers.ValidationError({"value": ["Required for a pain score."]})
        else:
            if "value" in attrs:
                raise serializers.ValidationError(
                    {"value": ["The ODI percentage is computed from `odi_answers`."]}
                )
            if "odi_answers" not in attrs:
                raise serializers.ValidationError({"odi_answers": ["Required for the ODI."]})
        return attrs


class OutcomeFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    kind = django_filters.ChoiceFilter(choices=MeasureKind.choices)

    class Meta:
        model = OutcomeMeasure
        fields = ["patient", "kind"]


@extend_schema_view(
    list=extend_schema(
        summary="Outcome measures",
        description="Pain scores and ODI results of the patients you treat (managers: every "
        "patient's), oldest first. Filters: `patient`, `kind`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One outcome measure", tags=CLINICAL_TAGS),
)
class OutcomeMeasureViewSet(ClinicalRecordViewSet):
    """Scores are recorded, never edited or deleted."""

    serializer_class = OutcomeMeasureSerializer
    filterset_class = OutcomeFilter
    http_method_names = ["get", "post", "head", "options"]
    write_permissions = {"create": "treatments.add_outcomemeasure"}

    def get_queryset(self):
        return (
            outcomes_for(self.request.user)
            .select_related("recorded_by")
            .order_by("recorded_at", "pk")
        )

    @extend_schema(
        summary="Record a pain score or an ODI",
        tags=CLINICAL_TAGS,
        request=OutcomeMeasureCreateSerializer,
        responses={201: OutcomeMeasureSerializer},
    )
    def create(self, request: Request) -> Response:
        body = OutcomeMeasureCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        common = {
            "patient": data["patient"],
            "by": request.user,
            "recorded_at": data.get("recorded_at"),
        }
        if data["kind"] == MeasureKind.PAIN:
            measure = record_pain(score=data["value"], **common)
        else:
            measure = record_odi(answers=data["odi_answers"], **common)
        measure = self.get_queryset().get(pk=measure.pk)
        return Response(self.get_serializer(measure).data, status=status.HTTP_201_CREATED)


# --- progress --------------------------------------------------------------------------


class ProgressPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField(read_only=True, help_text="In the clinic's time zone.")
    value = serializers.FloatField(read_only=True)


class ProgressPhaseSerializer(serializers.Serializer):
    phase = NamedChoiceField(Phase, read_only=True)
    started_on = serializers.DateField(read_only=True)
    ended_on = serializers.DateField(read_only=True, allow_null=True)


class ProgressSerializer(serializers.Serializer):
    pain = ProgressPointSerializer(many=True, read_only=True)
    odi = ProgressPointSerializer(many=True, read_only=True)
    phases = ProgressPhaseSerializer(many=True, read_only=True)


class PatientProgressView(AuditedMixin, GenericAPIView):
    permission_classes = [IsAuthenticated, CanReadClinicalRecords]
    serializer_class = ProgressSerializer

    @extend_schema(
        summary="A patient's progress",
        description="Pain scores and ODI percentages over time (oldest first), and the "
        "phases their plans went through, for a chart. For the patient's practitioners and "
        "managers; 404 for anyone else on staff who may read clinical records.",
        tags=CLINICAL_TAGS,
        responses={200: ProgressSerializer},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request.user
        patient = clinical_patients_for(user).filter(pk=pk).first()
        if patient is None:
            raise NotFound()
        self.audit_shown(patient)  # the chart of their scores and phases
        series: dict[str, list[dict]] = {MeasureKind.PAIN: [], MeasureKind.ODI: []}
        measures = (
            outcomes_for(user)
            .filter(patient=patient)
            .order_by("recorded_at", "pk")
            .values_list("kind", "recorded_at", "value")
        )
        for kind, recorded_at, value in measures:
            series[kind].append({"at": timezone.localtime(recorded_at), "value": float(value)})
        phases = sorted(
            (
                phase
                for plan in plans_for(user).filter(patient=patient)
                for phase in plan.phases.all()
                if phase.started_on is not None
            ),
            key=lambda phase: (phase.started_on, phase.ended_on or date.max, phase.pk),
        )
        body = {
            "pain": series[MeasureKind.PAIN],
            "odi": series[MeasureKind.ODI],
            "phases": [
                {"phase": p.phase, "started_on": p.started_on, "ended_on": p.ended_on}
                for p in phases
            ],
        }
        return Response(ProgressSerializer(body).data)


# --- intake and red flags --------------------------------------------------------------


class IntakeAnswersSerializer(serializers.Serializer):
    """The intake questionnaire's answers."""

    complaint = serializers.CharField(max_length=MAX_TEXT, help_text="Presenting complaint.")
    symptom_locations = ChoiceListField(SymptomLocation)
    sciatica_symptoms = ChoiceListField(SciaticaSymptom)
    pain_score = _score(help_text="0 (none) to 10 (worst imaginable).")
    duration = NamedChoiceField(SymptomDuration)
    activity = NamedChoiceField(ActivityProfile)
    goals = _text()
    red_flags = ChoiceListField(
        RedFlag, help_text="Answered yes: the patient may need a physician first."
    )


class IntakeCreateSerializer(IntakeAnswersSerializer):
    """Staff enter the intake of a patient they treat."""

    patient = VisiblePatientField()


class MyIntakeSerializer(ModelSerializer):
    """An intake as its patient submitted it."""

    symptom_locations = ChoiceListField(SymptomLocation, read_only=True)
    sciatica_symptoms = ChoiceListField(SciaticaSymptom, read_only=True)
    duration = NamedChoiceField(SymptomDuration, read_only=True)
    activity = NamedChoiceField(ActivityProfile, read_only=True)
    red_flags = ChoiceListField(RedFlag, read_only=True)

    class Meta:
        model = Intake
        fields = [
            "id",
            "submitted_at",
            "complaint",
            "symptom_locations",
            "sciatica_symptoms",
            "pain_score",
            "duration",
            "activity",
            "goals",
            "red_flags",
        ]
        read_only_fields = fields


class ClearanceCreateSerializer(serializers.Serializer):
    cleared_on = CalendarDateField(
        validators=[_not_after_today], help_text="When the patient was cleared (e.g. GP visit)."
    )
    note = serializers.CharField(
        max_length=MAX_TEXT, help_text="Who cleared the patient and what was found."
    )


class ClearanceSerializer(ModelSerializer):
    cleared_by = serializers.SerializerMethodField()

    class Meta:
        model = RedFlagClearance
        fields = ["cleared_on", "note", "cleared_by", "recorded_at"]
        read_only_fields = fields

    def get_cleared_by(self, clearance: RedFlagClearance) -> str:
        return clearance.cleared_by.display_name


class IntakeSerializer(MyIntakeSerializer):
    """An intake as staff read it: who entered it, and whether its red flags are open."""

    patient = NamedSerializer(read_only=True)
    entered_by = serializers.SerializerMethodField()
    red_flags_open = serializers.SerializerMethodField(
        help_text="True while the red flags await a practitioner's clearance."
    )
    clearance = ClearanceSerializer(read_only=True, allow_null=True)

    class Meta(MyIntakeSerializer.Meta):
        fields = [
            "id",
            "patient",
            "submitted_at",
            "entered_by",
            *MyIntakeSerializer.Meta.fields[2:],
            "red_flags_open",
            "clearance",
        ]
        read_only_fields = fields

    def get_entered_by(self, intake: Intake) -> str | None:
        return intake.entered_by.display_name if intake.entered_by is not None else None

    def get_red_flags_open(self, intake: Intake) -> bool:
        # `red_flags_covered` comes from `intakes_for`: a clearance of this intake or of a
        # later one covers it (`treatments.selectors`).
        return bool(intake.red_flags) and not intake.red_flags_covered


class IntakeFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")

    class Meta:
        model = Intake
        fields = ["patient"]


@extend_schema(
    summary="Submit my intake questionnaire",
    description="A patient answers the intake questionnaire. Red flags among the answers "
    "are shown to their practitioners until one records a clearance.",
    tags=["patients"],
    request=IntakeAnswersSerializer,
    responses={201: MyIntakeSerializer},
)
class MyIntakeView(AuditedMixin, GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = IntakeAnswersSerializer
    http_method_names = ["post", "options"]

    def post(self, request: Request) -> Response:
        body = IntakeAnswersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        intake = submit_intake(
            patient=request.user.patient,
            answers=dict(body.validated_data),
            entered_by=request.user,
        )
        return Response(MyIntakeSerializer(intake).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Intake questionnaires",
        description="Intakes of the patients you treat (managers: every patient's), newest "
        "first. Filter: `patient`.",
        tags=CLINICAL_TAGS,
    ),
    retrieve=extend_schema(summary="One intake questionnaire", tags=CLINICAL_TAGS),
)
class IntakeViewSet(ClinicalRecordViewSet):
    serializer_class = IntakeSerializer
    filterset_class = IntakeFilter
    http_method_names = ["get", "post", "head", "options"]
    write_permissions = {
        "create": "treatments.add_intake",
        "clearance": "treatments.add_redflagclearance",
    }

    def get_queryset(self):
        return (
            intakes_for(self.request.user)
            .select_related("entered_by", "clearance__cleared_by")
            .order_by("-submitted_at", "-pk")
        )

    @extend_schema(
        summary="Enter a patient's intake",
        description="Staff enter the intake questionnaire of a patient they treat.",
        tags=CLINICAL_TAGS,
        request=IntakeCreateSerializer,
        responses={201: IntakeSerializer},
    )
    def create(self, request: Request) -> Response:
        body = IntakeCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        answers = dict(body.validated_data)
        patient = answers.pop("patient")
        intake = submit_intake(patient=patient, answers=answers, entered_by=request.user)
        return self._answer(intake, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Clear the red flags on record up to an intake",
        description="A practitioner who treats the patient records that the red flags were "
        "dealt with, e.g. the patient was seen by their GP: date and note; the author is "
        "recorded. The clearance covers this intake and every earlier one of the patient; "
        "flags of a later intake stay open. Managers read red flags but do not clear them "
        "(403).",
        tags=CLINICAL_TAGS,
        request=ClearanceCreateSerializer,
        responses={
            201: IntakeSerializer,
            403: error_response(
                "Not a practitioner who treats the patient.",
                (
                    "not_treating_practitioner",
                    "Only a practitioner who treats the patient clears their red flags.",
                ),
            ),
            409: error_response(
                "Nothing to clear.",
                ("red_flags_clear", "No open red flags up to this intake."),
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def clearance(self, request: Request, pk: str) -> Response:
        intake = self.get_object()
        body = ClearanceCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        clear_red_flags(
            intake=intake,
            cleared_by=request.user,
            cleared_on=body.validated_data["cleared_on"],
            note=body.validated_data["note"],
        )
        return self._answer(intake, status.HTTP_201_CREATED)
