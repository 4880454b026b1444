"""Outcome measures over HTTP: pain scores and Oswestry Disability Index results, recorded
and never changed."""

from datetime import datetime

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from kernel.rest import IdFilter, ModelSerializer, NamedSerializer, Serializer, ZonedDateTimeField

from ..measures import answer_problems, record_measure
from ..models import ODI_SECTIONS, MeasureKind, OutcomeMeasure
from ..selectors import outcomes_for
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


class OutcomeMeasureCreateSerializer(Serializer):
    """A pain score (`value`, 0-10) or an ODI questionnaire (`odi_answers`), never both:
    the ODI percentage is computed by the server."""

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
        measure = record_measure(
            kind=data["kind"],
            answers=data,
            patient=data["patient"],
            by=request.user,
            recorded_at=data.get("recorded_at"),
        )
        measure = self.get_queryset().get(pk=measure.pk)
        return Response(self.get_serializer(measure).data, status=status.HTTP_201_CREATED)
