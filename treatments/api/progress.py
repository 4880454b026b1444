"""A patient's progress over HTTP: their scores over time and their plans' phases, for a
chart."""

from datetime import date

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from audit.mixins import AuditedMixin

from ..models import MeasureKind, Phase
from ..selectors import clinical_patients_for, outcomes_for, plans_for
from .common import CLINICAL_TAGS, CanReadClinicalRecords, NamedChoiceField


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
