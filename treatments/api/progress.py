"""A patient's progress over HTTP: their scores over time and their plans' phases, for a
chart: `treatments.progress.progress_of`, as the patient's admin page draws it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from audit.mixins import AuditedMixin
from kernel.rest import Serializer

from ..models import Phase
from ..progress import progress_of
from ..selectors import clinical_patients_for
from .common import CLINICAL_TAGS, CanReadClinicalRecords, NamedChoiceField


class ProgressPointSerializer(Serializer):
    at = serializers.DateTimeField(read_only=True, help_text="In the clinic's time zone.")
    value = serializers.FloatField(read_only=True)


class ProgressPhaseSerializer(Serializer):
    phase = NamedChoiceField(Phase, read_only=True)
    started_on = serializers.DateField(read_only=True)
    ended_on = serializers.DateField(read_only=True, allow_null=True)


class ProgressSerializer(Serializer):
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
        patient = clinical_patients_for(request.user).filter(pk=pk).first()
        if patient is None:
            raise NotFound()
        self.audit_shown(patient)  # the chart of their scores and phases
        return Response(ProgressSerializer(progress_of(request.user, patient)).data)
