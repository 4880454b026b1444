"""Treatment plans over HTTP: a course of care along the pathway's phases, started by a
practitioner, adjusted and moved along by those who may see it, closed but never deleted."""

from decimal import Decimal

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from kernel.rest import IdFilter, ModelSerializer, NamedSerializer, Serializer, error_response

from ..models import SCHEDULED_MEASURES, MeasureKind, Phase, PlanPhase, PlanStatus, TreatmentPlan
from ..selectors import plans_for
from ..services import create_plan, move_plan_to_phase, update_plan
from .common import (
    CLINICAL_TAGS,
    MAX_TEXT,
    ClinicalRecordViewSet,
    NamedChoiceField,
    NumberField,
    VisiblePatientField,
    practitioner_of,
)


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
            *SCHEDULED_MEASURES.values(),
            "phases",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _every_weeks(kind: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=52,
        required=False,
        allow_null=True,
        help_text=f"How often the {MeasureKind(kind).label} is taken, in weeks; null: not planned.",
    )


class TreatmentPlanChangeSerializer(Serializer):
    goals = serializers.CharField(max_length=MAX_TEXT, required=False)
    maintenance_interval_weeks = serializers.IntegerField(min_value=1, max_value=52, required=False)
    odi_every_weeks = _every_weeks(MeasureKind.ODI)
    rmdq_every_weeks = _every_weeks(MeasureKind.RMDQ)
    psfs_every_weeks = _every_weeks(MeasureKind.PSFS)
    status = NamedChoiceField(
        PlanStatus,
        required=False,
        help_text="An active plan may be completed or discontinued; a closed plan stays closed.",
    )


class TreatmentPlanCreateSerializer(Serializer):
    """A new course of care for a patient you treat; you are its practitioner."""

    patient = VisiblePatientField()
    goals = serializers.CharField(max_length=MAX_TEXT)
    maintenance_interval_weeks = serializers.IntegerField(
        min_value=1, max_value=52, required=False, default=6
    )
    phases = PlanPhaseSerializer(many=True, required=False, max_length=len(Phase.choices))
    odi_every_weeks = _every_weeks(MeasureKind.ODI)
    rmdq_every_weeks = _every_weeks(MeasureKind.RMDQ)
    psfs_every_weeks = _every_weeks(MeasureKind.PSFS)

    def validate_phases(self, phases: list[dict]) -> list[dict]:
        names = [phase["phase"] for phase in phases]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Plan each phase at most once.")
        return phases


class PlanMoveSerializer(Serializer):
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
            schedule={name: data[name] for name in SCHEDULED_MEASURES.values() if name in data},
        )
        return self._answer(plan, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a plan's goals, maintenance interval, measure schedule or status",
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
