"""Outcome measures over HTTP: pain scores, Oswestry Disability Index, Roland-Morris and
Patient-Specific Functional Scale results, scored by the server from their answers,
recorded and never changed; each answered with its clinically important change from the
patient's baseline (`treatments.change`)."""

from datetime import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kernel.rest import IdFilter, ModelSerializer, NamedSerializer, Serializer, ZonedDateTimeField

from ..change import VERDICTS, change_of
from ..instruments import (
    PSFS_ACTIVITY_LENGTH,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
    RMDQ_ITEMS,
)
from ..measures import answer_problems, record_measure
from ..models import ODI_SECTIONS, MeasureKind, OutcomeMeasure
from ..selectors import outcomes_for, with_baselines
from .common import (
    CLINICAL_TAGS,
    ClinicalRecordViewSet,
    NamedChoiceField,
    NumberField,
    VisiblePatientField,
    score_field,
)


def _not_in_future(value: datetime) -> datetime:
    if value > timezone.now():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class PsfsActivitySerializer(Serializer):
    activity = serializers.CharField(
        max_length=PSFS_ACTIVITY_LENGTH, help_text="In the patient's words."
    )
    score = serializers.IntegerField(
        min_value=0, max_value=10, help_text="0 (unable to do it) to 10 (as before the problem)."
    )


class ChangeSerializer(Serializer):
    verdict = serializers.ChoiceField(
        choices=VERDICTS,
        read_only=True,
        help_text="Against the patient's first measurement of this kind (the baseline), by "
        "the clinic's thresholds of clinically important change.",
    )
    baseline = serializers.FloatField(read_only=True)
    improvement = serializers.FloatField(
        read_only=True, help_text="Points better than the baseline (negative: worse)."
    )
    percent = serializers.FloatField(
        read_only=True, allow_null=True, help_text="The improvement as % of the baseline."
    )
    recovered = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Pain 0 or RMDQ at most 2 (Kamper 2010); null where the instrument "
        "defines no recovery.",
    )


class OutcomeMeasureSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    kind = NamedChoiceField(MeasureKind, read_only=True)
    value = NumberField(
        max_digits=4,
        decimal_places=1,
        read_only=True,
        help_text="Computed from the answers: pain 0-10, ODI %, RMDQ 0-24, PSFS mean 0-10.",
    )
    instrument_version = serializers.CharField(read_only=True)
    odi_answers = serializers.ListField(
        child=serializers.IntegerField(allow_null=True),
        allow_null=True,
        read_only=True,
        help_text="The ten ODI sections, 0-5 each, null where unanswered; null for others.",
    )
    rmdq_answers = serializers.ListField(
        child=serializers.BooleanField(allow_null=True),
        allow_null=True,
        read_only=True,
        help_text="The 24 Roland-Morris statements (true: yes); null for other kinds.",
    )
    psfs = serializers.SerializerMethodField()
    change = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField(read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = OutcomeMeasure
        fields = [
            "id",
            "patient",
            "kind",
            "value",
            "instrument_version",
            "odi_answers",
            "rmdq_answers",
            "psfs",
            "change",
            "recorded_at",
            "recorded_by",
            "appointment",
        ]
        read_only_fields = fields

    def get_recorded_by(self, measure: OutcomeMeasure) -> str | None:
        return measure.recorded_by.display_name if measure.recorded_by is not None else None

    @extend_schema_field(PsfsActivitySerializer(many=True, allow_null=True))
    def get_psfs(self, measure: OutcomeMeasure) -> list[dict] | None:
        if measure.psfs_activities is None:
            return None
        return [
            {"activity": activity, "score": score}
            for activity, score in zip(
                measure.psfs_activities, measure.psfs_scores or [], strict=True
            )
        ]

    @extend_schema_field(ChangeSerializer(allow_null=True))
    def get_change(self, measure: OutcomeMeasure) -> dict | None:
        change = change_of(measure)
        return None if change is None else ChangeSerializer(change).data


class OutcomeMeasureCreateSerializer(Serializer):
    """A pain score (`value`, 0-10), an ODI (`odi_answers`), a Roland-Morris
    (`rmdq_answers`) or a PSFS (`psfs`): exactly the answer of its `kind`. Every score but
    pain's is computed by the server from the answers."""

    patient = VisiblePatientField()
    kind = NamedChoiceField(MeasureKind)
    value = score_field(required=False, help_text="Pain only: 0 (none) to 10 (worst).")
    odi_answers = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=5, allow_null=True),
        min_length=len(ODI_SECTIONS),
        max_length=len(ODI_SECTIONS),
        required=False,
        help_text="ODI only: the ten sections in order ("
        + ", ".join(ODI_SECTIONS)
        + "), 0-5 each, null where unanswered (at most two).",
    )
    rmdq_answers = serializers.ListField(
        child=serializers.BooleanField(allow_null=True),
        min_length=RMDQ_ITEMS,
        max_length=RMDQ_ITEMS,
        required=False,
        help_text="Roland-Morris only: the 24 statements in order, true (yes) or false, null "
        "where unanswered (at most two: the score is prorated).",
    )
    psfs = PsfsActivitySerializer(
        many=True,
        required=False,
        min_length=PSFS_MIN_ACTIVITIES,
        max_length=PSFS_MAX_ACTIVITIES,
        help_text="Patient-Specific Functional Scale only: 3 to 5 activities the patient "
        "names, each rated 0-10.",
    )
    recorded_at = ZonedDateTimeField(
        required=False, validators=[_not_in_future], help_text="Default: now."
    )

    def validate(self, attrs):
        if problems := answer_problems(attrs["kind"], attrs):
            raise serializers.ValidationError(problems)
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
        description="Outcome measures (pain, ODI, Roland-Morris, PSFS) of the patients you "
        "treat (managers: every patient's), oldest first, each with its change from the "
        "patient's baseline. Filters: `patient`, `kind`.",
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
        return with_baselines(
            outcomes_for(self.request.user)
            .select_related("recorded_by")
            .order_by("recorded_at", "pk")
        )

    @extend_schema(
        summary="Record an outcome measure",
        tags=CLINICAL_TAGS,
        request=OutcomeMeasureCreateSerializer,
        responses={201: OutcomeMeasureSerializer},
    )
    def create(self, request: Request) -> Response:
        body = OutcomeMeasureCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        measure = record_measure(
            kind=data["kind"],
            answers=data,
            patient=data["patient"],
            by=request.user,
            recorded_at=data.get("recorded_at"),
        )
        measure = self.get_queryset().get(pk=measure.pk)
        return Response(self.get_serializer(measure).data, status=status.HTTP_201_CREATED)
