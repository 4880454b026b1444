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
from ..progress import Score, progress_of
from ..selectors import clinical_patients_for
from .common import CLINICAL_TAGS, CanReadClinicalRecords, NamedChoiceField
from .programme import WeekAdherenceSerializer


class ProgressPointSerializer(Serializer):
    at = serializers.DateTimeField(read_only=True, help_text="In the clinic's time zone.")
    value = serializers.FloatField(read_only=True)
    verdict = serializers.SerializerMethodField(
        help_text="Against the patient's baseline: baseline, improved, "
        "no_important_change, worse (or unclassified)."
    )
    recovered = serializers.SerializerMethodField()

    def get_verdict(self, score: Score) -> str | None:
        return None if score.change is None else score.change.verdict

    def get_recovered(self, score: Score) -> bool | None:
        return None if score.change is None else score.change.recovered


class BandSerializer(Serializer):
    baseline = serializers.FloatField(read_only=True)
    improved_at = serializers.FloatField(
        read_only=True, help_text="The nearest score that counts as an important improvement."
    )
    worse_at = serializers.FloatField(
        read_only=True, help_text="The nearest score that counts as an important worsening."
    )


class BandsSerializer(Serializer):
    pain = BandSerializer(read_only=True, allow_null=True)
    odi = BandSerializer(read_only=True, allow_null=True)
    rmdq = BandSerializer(read_only=True, allow_null=True)
    psfs = BandSerializer(read_only=True, allow_null=True)


class ProgressPhaseSerializer(Serializer):
    phase = NamedChoiceField(Phase, read_only=True)
    started_on = serializers.DateField(read_only=True)
    ended_on = serializers.DateField(read_only=True, allow_null=True)


class ProgressSerializer(Serializer):
    pain = ProgressPointSerializer(many=True, read_only=True)
    odi = ProgressPointSerializer(many=True, read_only=True)
    rmdq = ProgressPointSerializer(many=True, read_only=True)
    psfs = ProgressPointSerializer(many=True, read_only=True)
    bands = BandsSerializer(
        read_only=True,
        help_text="Per kind: the scores between which a change from the baseline is not "
        "clinically important; null without a baseline or a threshold.",
    )
    phases = ProgressPhaseSerializer(many=True, read_only=True)
    adherence = WeekAdherenceSerializer(
        many=True,
        read_only=True,
        help_text="The home programme, week by week (oldest first): the times its exercises "
        "were prescribed and the times done.",
    )


class PatientProgressView(AuditedMixin, GenericAPIView):
    permission_classes = [IsAuthenticated, CanReadClinicalRecords]
    serializer_class = ProgressSerializer

    @extend_schema(
        summary="A patient's progress",
        description="Pain, ODI, Roland-Morris and PSFS scores over time (oldest first), each "
        "with its change from the patient's baseline, the band of no important change, the "
        "phases their plans went through, and the home programme's weekly adherence, for a "
        "chart. For the patient's practitioners and "
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
