"""The clinic outcomes report over HTTP, for managers: `treatments.outcomes_report`, as the
admin's page shows it (`GET /api/v1/reports/outcomes/?from=&to=&by=`). Counts only, never a
patient; a small group's figures are withheld as on the page. Each call is audited (a read
naming the period and the grouping, as the admin's)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import IsManager
from audit.models import Action
from audit.services import record
from kernel.rest import (
    FORBIDDEN,
    NOT_AUTHENTICATED,
    VALIDATION_ERROR,
    CalendarDateField,
    Serializer,
)

from ..models import MeasureKind
from ..outcomes_report import (
    MEASURES,
    WEEKS,
    GroupBy,
    OutcomesReport,
    Row,
    Withheld,
    default_period,
    outcomes_report,
)
from .common import NamedChoiceField


class OutcomesQuerySerializer(serializers.Serializer):
    to = CalendarDateField(required=False, help_text="The period's last day (included).")
    by = NamedChoiceField(GroupBy, required=False, default=GroupBy.SERVICE)

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so it cannot be a class attribute.
        fields["from"] = CalendarDateField(required=False, help_text="The period's first day.")
        return fields


class TallySerializer(Serializer):
    measure = NamedChoiceField(MeasureKind, read_only=True)
    weeks = serializers.IntegerField(read_only=True, help_text="After the baseline.")
    improved = serializers.IntegerField(read_only=True)
    not_improved = serializers.IntegerField(read_only=True)
    measured = serializers.IntegerField(
        read_only=True, help_text="improved + not_improved: the share's n."
    )
    not_measured = serializers.IntegerField(
        read_only=True, help_text="No baseline, or not measured again by the time point."
    )
    too_early = serializers.IntegerField(
        read_only=True, help_text="The time point is not over yet: in no other figure."
    )
    share = serializers.FloatField(
        read_only=True, allow_null=True, help_text="improved / measured; null when none."
    )


class SessionsToImproveSerializer(Serializer):
    measure = NamedChoiceField(MeasureKind, read_only=True)
    median = serializers.FloatField(read_only=True, allow_null=True)
    n = serializers.IntegerField(read_only=True, help_text="Those improved by 12 weeks.")


class ReportRowSerializer(Serializer):
    key = serializers.CharField(
        read_only=True, help_text="The service's or practitioner's id, or the phase."
    )
    label = serializers.CharField(read_only=True)
    patients = serializers.IntegerField(read_only=True, allow_null=True)
    withheld = NamedChoiceField(
        Withheld,
        read_only=True,
        allow_null=True,
        help_text="Why the group's figures are withheld; null when they are shown.",
    )
    outcomes = TallySerializer(many=True, read_only=True)
    sessions_to_improve = SessionsToImproveSerializer(many=True, read_only=True)


class OutcomesReportSerializer(Serializer):
    to = serializers.DateField(read_only=True)
    by = NamedChoiceField(GroupBy, read_only=True)
    min_count = serializers.IntegerField(
        read_only=True, help_text="Groups of fewer patients are withheld."
    )
    overall = ReportRowSerializer(read_only=True)
    groups = ReportRowSerializer(many=True, read_only=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField(read_only=True)
        return fields


class OutcomesReportView(APIView):
    permission_classes = [IsAuthenticated, IsManager]

    @extend_schema(
        summary="The clinic outcomes report",
        description="Of the patients whose first completed appointment was in the period "
        "(default: the last twelve months), how many reached a clinically important "
        "improvement in the ODI and in pain by 6 and by 12 weeks after their baseline, "
        "with those not measured and those whose time point is not over counted apart, "
        "and the median sessions it took; overall and by service, practitioner or pathway "
        "phase. A group of fewer patients than `min_count` is withheld, and so is the next "
        "smallest whenever one alone would be. For managers only.",
        tags=["reports"],
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("by", str, enum=GroupBy.values),
        ],
        responses={
            200: OutcomesReportSerializer,
            400: VALIDATION_ERROR,
            401: NOT_AUTHENTICATED,
            403: FORBIDDEN,
        },
    )
    def get(self, request: Request) -> Response:
        query = OutcomesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, last = default_period(timezone.localdate())
        report = outcomes_report(
            start=query.validated_data.get("from", first),
            end=query.validated_data.get("to", last),
            by=query.validated_data["by"],
            now=timezone.now(),
        )
        record(
            Action.READ,
            request=request,
            detail={
                "path": request.path,
                "report": "clinic outcomes",
                "from": report.start.isoformat(),
                "to": report.end.isoformat(),
                "by": report.by,
            },
        )
        return Response(OutcomesReportSerializer(_data(report)).data)


def _data(report: OutcomesReport) -> dict:
    return {
        "from": report.start,
        "to": report.end,
        "by": report.by,
        "min_count": report.min_count,
        "overall": _row(report.overall),
        "groups": [_row(row) for row in report.groups],
    }


def _row(row: Row) -> dict:
    return {
        "key": row.key,
        "label": row.label,
        "patients": row.patients_shown,
        "withheld": row.withheld,
        "outcomes": [
            {
                "measure": kind,
                "weeks": weeks,
                "improved": tally.improved,
                "not_improved": tally.not_improved,
                "measured": tally.measured,
                "not_measured": tally.not_measured,
                "too_early": tally.too_early,
                "share": tally.share,
            }
            for kind in MEASURES
            for weeks in WEEKS
            if (tally := row.tallies.get((kind, weeks))) is not None
        ],
        "sessions_to_improve": [
            {"measure": kind, "median": row.sessions[kind].median, "n": row.sessions[kind].n}
            for kind in MEASURES
            if kind in row.sessions
        ],
    }
