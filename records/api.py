"""The patient's record over HTTP: the staff's patient directory (search and detail, within
`care.selectors.patients_for`) and a patient's own export of everything held on them."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.access import IsPatient, IsStaffMember
from audit.mixins import AuditedMixin
from audit.models import Action
from audit.services import record
from care.selectors import patients_for
from patients.selectors import search_patients
from patients.serializers import StaffPatientSerializer

from .export import export_patient_record
from .renderers import ChosenFormat, RecordHTMLRenderer, RecordPDFRenderer


@extend_schema(
    summary="My whole record (right of access)",
    description="Everything the clinic holds about the signed-in patient: profile and "
    "consents, appointments, intake answers, treatment plans, signed notes with their "
    "addenda (drafts are not part of the record until signed), outcome scores, the "
    "messages sent to them, and who accessed their record (name and role, what, when, "
    "from where). JSON by default; `format=html` or `format=pdf` (or the Accept header) "
    "gives a summary to download. Every export is itself recorded in the access history.",
    tags=["patients"],
    parameters=[
        OpenApiParameter(
            "format",
            str,
            enum=["json", "html", "pdf"],
            description="`json` (default), or a document to keep: `html`, `pdf`.",
        )
    ],
    responses={
        (200, "application/json"): OpenApiTypes.OBJECT,
        (200, "text/html"): OpenApiTypes.STR,
        (200, "application/pdf"): OpenApiTypes.BINARY,
    },
)
class MyRecordExportView(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    renderer_classes = [JSONRenderer, RecordHTMLRenderer, RecordPDFRenderer]
    content_negotiation_class = ChosenFormat
    http_method_names = ["get", "head"]  # OPTIONS' description is no record to render

    def get(self, request: Request) -> Response:
        patient = request.user.patient
        chosen = request.accepted_renderer.format
        with transaction.atomic():
            record(
                Action.EXPORT,
                request=request,
                obj=patient,
                detail={"path": request.path, "format": chosen},
            )
            body = export_patient_record(patient)
        disposition = "inline" if chosen == "json" else "attachment"
        return Response(
            body,
            headers={"Content-Disposition": f'{disposition}; filename="my-clinic-record.{chosen}"'},
        )

    def handle_exception(self, exc):
        # A refusal is answered in JSON, whatever document was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class PatientSearchSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema_view(
    list=extend_schema(
        summary="Search patients",
        description="Reception and managers search every patient; a practitioner the "
        "patients in their care (a booking with them that the patient or reception made, an "
        "assignment by reception or a manager, or a break of the glass that has not "
        "expired). `q` matches names, email, mobile (typed with or without "
        "spaces), or a date of birth (YYYY-MM-DD or D/M/YYYY); every word must match.",
        tags=["patients"],
        parameters=[OpenApiParameter("q", str)],
        responses={
            200: StaffPatientSerializer(many=True),
        },
    ),
    retrieve=extend_schema(
        summary="One patient",
        tags=["patients"],
        responses={
            200: StaffPatientSerializer,
        },
    ),
)
class PatientViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsAuthenticated, IsStaffMember]
    serializer_class = StaffPatientSerializer

    def get_queryset(self):
        patients = patients_for(self.request.user).order_by("last_name", "first_name", "pk")
        if self.action != "list":
            return patients
        search = PatientSearchSerializer(data=self.request.query_params)
        search.is_valid(raise_exception=True)
        query = search.validated_data.get("q", "").strip()
        return search_patients(patients, query) if query else patients
