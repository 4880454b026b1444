"""Break the glass over HTTP (`care.services.break_glass`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import IsPractitioner
from kernel.rest import ModelSerializer, Serializer, error_response
from patients.models import BreakGlassAccess

from .selectors import patients_open_to_break_glass_for
from .services import BREAK_GLASS_MAX_REASON, break_glass


class BreakGlassRequestSerializer(Serializer):
    reason = serializers.CharField(
        max_length=BREAK_GLASS_MAX_REASON,
        help_text="Why you need this patient's records now; the clinic manager reviews it.",
    )


class BreakGlassAccessSerializer(ModelSerializer):
    class Meta:
        model = BreakGlassAccess
        fields = ["id", "patient", "reason", "granted_at", "expires_at"]
        read_only_fields = fields


class BreakGlassView(generics.GenericAPIView):
    """The audit entry is the service's (BREAK_GLASS), in its transaction."""

    permission_classes = [IsAuthenticated, IsPractitioner]
    serializer_class = BreakGlassAccessSerializer

    @extend_schema(
        summary="Break the glass: open a patient's records for a while",
        description="For a practitioner with no care relationship with the patient (no "
        "booking someone else made, no assignment by reception or a manager): states a "
        "`reason` (at least `BREAK_GLASS_MIN_REASON` characters, 20 by default) and opens "
        "this one patient's details and clinical records to them for `BREAK_GLASS_HOURS` "
        "(12 by default). Written to the audit log; the clinic manager reviews every use. "
        "409 `already_in_care` when the records are open to them already.",
        tags=["patients"],
        request=BreakGlassRequestSerializer,
        responses={
            201: BreakGlassAccessSerializer,
            409: error_response(
                "The records are open to you already, or the record is archived.",
                ("already_in_care", "This patient is in your care: their records are open to you."),
                ("patient_archived", "This patient's record is archived."),
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        body = BreakGlassRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        patient = patients_open_to_break_glass_for(request.user).filter(pk=pk).first()
        if patient is None:
            raise NotFound()
        access = break_glass(
            patient=patient, by=request.user, reason=body.validated_data["reason"], request=request
        )
        return Response(BreakGlassAccessSerializer(access).data, status=status.HTTP_201_CREATED)
