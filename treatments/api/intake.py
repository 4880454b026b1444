"""Intake questionnaires and red flags over HTTP: a patient submits their own, staff enter
one for a patient they treat, and a practitioner who treats the patient clears red flags."""

from datetime import date

import django_filters
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import IsPatient
from audit.mixins import AuditedMixin
from kernel.rest import (
    CalendarDateField,
    IdFilter,
    ModelSerializer,
    NamedSerializer,
    Serializer,
    error_response,
)

from ..models import (
    ActivityProfile,
    Bothersomeness,
    Intake,
    RedFlag,
    RedFlagClearance,
    Risk,
    RiskScreening,
    SciaticaSymptom,
    SymptomDuration,
    SymptomLocation,
)
from ..selectors import intakes_for
from ..services import (
    URGENT_RED_FLAGS,
    StartBackAnswers,
    clear_red_flags,
    submit_intake,
    urgent_advice,
)
from .common import (
    CLINICAL_TAGS,
    MAX_TEXT,
    ChoiceListField,
    ClinicalRecordViewSet,
    NamedChoiceField,
    VisiblePatientField,
    score_field,
    text_field,
)


def _not_after_today(value: date) -> date:
    if value > timezone.localdate():
        raise serializers.ValidationError("Cannot be in the future.")
    return value


class StartBackAnswersSerializer(Serializer):
    """The STarT Back Screening Tool's nine answers (Hill et al. 2008), scored by the
    server into low, medium or high risk."""

    agree = serializers.ListField(
        child=serializers.BooleanField(),
        min_length=8,
        max_length=8,
        help_text="Items 1 to 8 in order: true if the patient agrees.",
    )
    bothersomeness = NamedChoiceField(
        Bothersomeness, help_text="Item 9: how bothersome the back pain was, last 2 weeks."
    )


class StartBackResultSerializer(ModelSerializer):
    risk = NamedChoiceField(Risk, read_only=True)

    class Meta:
        model = RiskScreening
        fields = ["risk", "total", "psychosocial", "answered_at", "instrument_version"]
        read_only_fields = fields


class IntakeAnswersSerializer(Serializer):
    """The intake questionnaire's answers, with the STarT Back screening when answered."""

    complaint = serializers.CharField(max_length=MAX_TEXT, help_text="Presenting complaint.")
    symptom_locations = ChoiceListField(SymptomLocation)
    sciatica_symptoms = ChoiceListField(SciaticaSymptom)
    pain_score = score_field(help_text="0 (none) to 10 (worst imaginable).")
    duration = NamedChoiceField(SymptomDuration)
    activity = NamedChoiceField(ActivityProfile)
    goals = text_field()
    red_flags = ChoiceListField(
        RedFlag, help_text="Answered yes: the patient may need a physician first."
    )
    start_back = StartBackAnswersSerializer(
        required=False, help_text="The STarT Back Screening Tool, answered with the intake."
    )

    def answers(self) -> tuple[dict, StartBackAnswers | None]:
        """The intake's answers, and the screening's apart (for `submit_intake`)."""
        answers = dict(self.validated_data)
        answers.pop("patient", None)
        screening = answers.pop("start_back", None)
        if screening is None:
            return answers, None
        return answers, StartBackAnswers(
            agree=list(screening["agree"]), bothersomeness=screening["bothersomeness"]
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


class UrgentAdviceSerializer(Serializer):
    red_flags = ChoiceListField(
        RedFlag, read_only=True, help_text="The answers that call for urgent care."
    )
    message = serializers.CharField(
        read_only=True, help_text="Plain words for the patient, to show as they are."
    )


class SubmittedIntakeSerializer(MyIntakeSerializer):
    """The intake just submitted, with what to tell the patient at once."""

    urgent_advice = serializers.SerializerMethodField(
        help_text="Present (not null) when the answers include a red flag that needs urgent "
        f"medical care ({', '.join(URGENT_RED_FLAGS)}): the website shows `message` to the "
        "patient straight away. Null otherwise; other red flags are for the practitioner."
    )

    class Meta(MyIntakeSerializer.Meta):
        fields = [*MyIntakeSerializer.Meta.fields, "urgent_advice"]
        read_only_fields = fields

    @extend_schema_field(UrgentAdviceSerializer(allow_null=True))
    def get_urgent_advice(self, intake: Intake) -> dict | None:
        advice = urgent_advice(intake.red_flags)
        return UrgentAdviceSerializer(advice).data if advice is not None else None


class ClearanceCreateSerializer(Serializer):
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
    start_back = serializers.SerializerMethodField(
        help_text="The STarT Back screening answered with this intake: the risk group "
        "(total ≤ 3 low; psychosocial subscale ≥ 4 high; otherwise medium); null if none."
    )

    class Meta(MyIntakeSerializer.Meta):
        fields = [
            "id",
            "patient",
            "submitted_at",
            "entered_by",
            *MyIntakeSerializer.Meta.fields[2:],
            "red_flags_open",
            "clearance",
            "start_back",
        ]
        read_only_fields = fields

    def get_entered_by(self, intake: Intake) -> str | None:
        return intake.entered_by.display_name if intake.entered_by is not None else None

    @extend_schema_field(StartBackResultSerializer(allow_null=True))
    def get_start_back(self, intake: Intake) -> dict | None:
        screening = getattr(intake, "screening", None)
        return None if screening is None else StartBackResultSerializer(screening).data

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
    "are shown to their practitioners (and reception sees a marker) until one records a "
    "clearance. The STarT Back screening (`start_back`) may be answered with it: its risk "
    "group is shown to the practitioner beside the red flags. When the answers include "
    "saddle numbness, a bladder or bowel change or "
    "episodes of leg weakness, `urgent_advice` tells the patient, in plain words, to seek "
    "urgent medical care: show its `message` at once.",
    tags=["patients"],
    request=IntakeAnswersSerializer,
    responses={201: SubmittedIntakeSerializer},
)
class MyIntakeView(AuditedMixin, GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = IntakeAnswersSerializer
    http_method_names = ["post", "options"]

    def post(self, request: Request) -> Response:
        body = IntakeAnswersSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answers, start_back = body.answers()
        intake = submit_intake(
            patient=request.user.patient,
            answers=answers,
            start_back=start_back,
            entered_by=request.user,
        )
        return Response(SubmittedIntakeSerializer(intake).data, status=status.HTTP_201_CREATED)


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
            .select_related("entered_by", "clearance__cleared_by", "screening")
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
        answers, start_back = body.answers()
        intake = submit_intake(
            patient=body.validated_data["patient"],
            answers=answers,
            start_back=start_back,
            entered_by=request.user,
        )
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
