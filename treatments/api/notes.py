"""Treatment notes over HTTP: a session's SOAP note, started by the session's practitioner,
edited by its author while a draft, signed (final), then amended by addenda."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from appointments.models import Appointment
from kernel.pagination import PagedRows
from kernel.rest import (
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

from ..models import (
    Addendum,
    ExerciseEntry,
    PostureFinding,
    SymptomLocation,
    TreatedRegion,
    TreatmentNote,
)
from ..selectors import addenda_of, exercise_logs_of, notes_for, sessions_to_write_up_for
from ..services import add_addendum, sign_note, start_note, update_draft
from .common import (
    CLINICAL_TAGS,
    MAX_TEXT,
    ChoiceListField,
    ClinicalRecordViewSet,
    NumberField,
    practitioner_of,
    score_field,
    text_field,
)

MAX_EXERCISES = 50  # entries in one session's exercise log


# An exercise's load as the API writes it: a JSON number with one decimal place.
_LOAD_KG = NumberField(
    max_digits=5,
    decimal_places=1,
    min_value=Decimal("0"),
    required=False,
    allow_null=True,
)


class ExerciseSerializer(ModelSerializer):
    """One exercise of the session's log, in the order given."""

    exercise = serializers.CharField(max_length=100, help_text="e.g. Back squat, Deadlift.")
    sets = serializers.IntegerField(min_value=0, max_value=50)
    reps = serializers.IntegerField(min_value=0, max_value=500)
    load_kg = _LOAD_KG
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

    def to_representation(self, addendum: Addendum) -> dict[str, Any]:
        return _addendum(self.context, row_of(addendum, ADDENDUM_COLUMNS))


class TreatmentNoteSerializer(ModelSerializer):
    """A session's SOAP note as stored; nothing here is written through this serializer."""

    appointment = NoteAppointmentSerializer(read_only=True)
    patient = NamedSerializer(source="appointment.patient", read_only=True)
    author = NamedSerializer(read_only=True)
    status = serializers.CharField(read_only=True, help_text="`draft` or `signed` (final).")
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

    def to_representation(self, note: TreatmentNote | Mapping[str, Any]) -> dict[str, Any]:
        # The fields above are what the schema says of a note; the note is written by hand
        # from a row (`note_rows`, or `row_of` a note whose log and addenda are prefetched):
        # DRF's walk over twenty notes, with their sessions, logs and addenda, cost more than
        # anything else in the answer.
        if not isinstance(note, Mapping):
            note = _row_of_note(note)
        zone = ZoneInfo(note["appointment__location__time_zone"])
        return {
            "id": note["id"],
            "appointment": {
                "id": note["appointment_id"],
                "start": note["appointment__start"].astimezone(zone).isoformat(),
                "end": note["appointment__end"].astimezone(zone).isoformat(),
                "service": note["appointment__service__name"],
                "location": note["appointment__location__name"],
            },
            "patient": {
                "id": note["appointment__patient_id"],
                "name": name_of(
                    self.context,
                    Patient,
                    note["appointment__patient_id"],
                    first_name=note["appointment__patient__first_name"],
                    last_name=note["appointment__patient__last_name"],
                ),
            },
            "author": _practitioner(self.context, note, "author"),
            "status": "draft" if note["signed_at"] is None else "signed",
            "subjective": note["subjective"],
            "pain_score": note["pain_score"],
            "pain_locations": list(note["pain_locations"]),
            "posture_findings": list(note["posture_findings"]),
            "regions_treated": list(note["regions_treated"]),
            "objective": note["objective"],
            "assessment": note["assessment"],
            "plan": note["plan"],
            "exercises": [_exercise(entry) for entry in note["exercises"]],
            "addenda": [_addendum(self.context, addendum) for addendum in note["addenda"]],
            "created_at": moment(note["created_at"]),
            "updated_at": moment(note["updated_at"]),
            "signed_at": moment(note["signed_at"]),
        }


# What a note's answer is written from: the columns of its row (`values(*NOTE_COLUMNS)`),
# with "exercises" and "addenda", the rows of its log and its addenda.
NOTE_COLUMNS = (
    "id",
    "patient_id",
    "appointment_id",
    "appointment__start",
    "appointment__end",
    "appointment__service__name",
    "appointment__location__name",
    "appointment__location__time_zone",
    "appointment__patient_id",
    "appointment__patient__first_name",
    "appointment__patient__last_name",
    "author_id",
    "author__user_id",
    "author__user__first_name",
    "author__user__last_name",
    "author__user__email",
    "subjective",
    "pain_score",
    "pain_locations",
    "posture_findings",
    "regions_treated",
    "objective",
    "assessment",
    "plan",
    "created_at",
    "updated_at",
    "signed_at",
)
EXERCISE_COLUMNS = ("exercise", "sets", "reps", "load_kg", "effort", "guarded", "comment")
ADDENDUM_COLUMNS = (
    "id",
    "author_id",
    "author__user_id",
    "author__user__first_name",
    "author__user__last_name",
    "author__user__email",
    "created_at",
    "text",
)


def note_rows(notes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of notes (`values(*NOTE_COLUMNS)` of notes read through `notes_for`), each
    with its exercise log and addenda: two queries, however many notes."""
    ids = [note["id"] for note in notes]
    logs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in exercise_logs_of(ids).values("note_id", *EXERCISE_COLUMNS):
        logs[entry["note_id"]].append(entry)
    addenda: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for addendum in addenda_of(ids).values("note_id", *ADDENDUM_COLUMNS):
        addenda[addendum["note_id"]].append(addendum)
    for note in notes:
        note["exercises"] = logs[note["id"]]
        note["addenda"] = addenda[note["id"]]
    return list(notes)


def _row_of_note(note: TreatmentNote) -> dict[str, Any]:
    return {
        **row_of(note, NOTE_COLUMNS),
        "exercises": [row_of(entry, EXERCISE_COLUMNS) for entry in note.exercises.all()],
        "addenda": [row_of(addendum, ADDENDUM_COLUMNS) for addendum in note.addenda.all()],
    }


def _practitioner(context: dict[str, Any], row: Mapping[str, Any], key: str) -> dict[str, Any]:
    """The practitioner `key` names in the row (a note's or an addendum's author), as
    `NamedSerializer` writes them: they go by their login's name."""
    return {
        "id": row[f"{key}_id"],
        "name": name_of(
            context,
            User,
            row[f"{key}__user_id"],
            first_name=row[f"{key}__user__first_name"],
            last_name=row[f"{key}__user__last_name"],
            email=row[f"{key}__user__email"],
        ),
    }


def _exercise(entry: Mapping[str, Any]) -> dict[str, Any]:
    load = entry["load_kg"]
    return {
        "exercise": entry["exercise"],
        "sets": entry["sets"],
        "reps": entry["reps"],
        "load_kg": None if load is None else _LOAD_KG.to_representation(load),
        "effort": entry["effort"],
        "guarded": entry["guarded"],
        "comment": entry["comment"],
    }


def _addendum(context: dict[str, Any], addendum: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": addendum["id"],
        "author": _practitioner(context, addendum, "author"),
        "created_at": moment(addendum["created_at"]),
        "text": addendum["text"],
    }


class TreatmentNoteChangeSerializer(Serializer):
    """What the author may write in a draft, every field optional. `exercises`, when sent,
    replaces the log with complete entries."""

    subjective = text_field(help_text="What the patient reports.")
    pain_score = score_field(required=False, allow_null=True)
    pain_locations = ChoiceListField(SymptomLocation)
    posture_findings = ChoiceListField(PostureFinding)
    regions_treated = ChoiceListField(TreatedRegion)
    objective = text_field(help_text="Findings and treatment, in words.")
    assessment = text_field()
    plan = text_field()
    exercises = ExerciseSerializer(many=True, required=False, max_length=MAX_EXERCISES)


@extend_schema_field(OpenApiTypes.INT)
class OwnSessionField(IdRelatedField):
    """An appointment id, among the sessions whose note the caller may start."""

    def get_queryset(self):
        return sessions_to_write_up_for(self.context["request"].user)


class TreatmentNoteCreateSerializer(TreatmentNoteChangeSerializer):
    """Start the draft note of a session of yours, optionally with its first answers."""

    appointment = OwnSessionField(help_text="A session of yours (you are its practitioner).")


class AddendumCreateSerializer(Serializer):
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
        # The session's start as the note keeps it (`TreatmentNote.session_start`).
        return notes_for(self.request.user).order_by("-session_start", "-pk")

    def list(self, request: Request) -> Response:
        rows = PagedRows(self.filter_queryset(self.get_queryset()), NOTE_COLUMNS)
        page = note_rows(self.paginate_queryset(rows))
        # The notes shown, for the audit log: what it records of each is its id and patient.
        self.audit_shown(
            *(TreatmentNote(pk=note["id"], patient_id=note["patient_id"]) for note in page)
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

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
