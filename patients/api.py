"""Patients over HTTP: self-registration, a patient's own profile, staff search, and a
practitioner's "break the glass"."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.access import IsPatient, IsPractitioner, IsStaffMember
from accounts.emails import normalize_email
from audit.api import AuditedMixin
from audit.models import Action
from audit.services import record
from kernel.api import ModelSerializer

from .export import export_patient_record
from .models import BreakGlassAccess, Patient
from .renderers import ChosenFormat, RecordHTMLRenderer, RecordPDFRenderer
from .selectors import patients_for, patients_open_to_break_glass_for, search_patients
from .services import BREAK_GLASS_MAX_REASON, break_glass, register_patient, update_own_profile

OLDEST_AGE_YEARS = 120


def _validate_date_of_birth(value: date) -> date:
    today = timezone.localdate()
    if value > today:
        raise serializers.ValidationError("Cannot be in the future.")
    if value.year < today.year - OLDEST_AGE_YEARS:
        raise serializers.ValidationError("Check the year.")
    return value


class NormalizedEmailField(serializers.EmailField):
    """An email address in the one spelling of `accounts.emails`, checked in that spelling
    (a fullwidth address is its plain self, not an invalid one)."""

    def to_internal_value(self, data) -> str:
        return super().to_internal_value(normalize_email(data) if isinstance(data, str) else data)


class RegistrationSerializer(serializers.Serializer):
    email = NormalizedEmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = PhoneNumberField(help_text="A mobile number; stored in E.164 (+61412345678).")
    date_of_birth = serializers.DateField(validators=[_validate_date_of_birth])


class PatientSerializer(ModelSerializer):
    """A patient's details and reminder consents."""

    mobile = PhoneNumberField(required=False, allow_blank=True)
    date_of_birth = serializers.DateField(validators=[_validate_date_of_birth])

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "mobile",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "consents_updated_at",
        ]
        read_only_fields = ["id", "email", "consents_updated_at"]


class StaffPatientSerializer(PatientSerializer):
    """A patient as staff read them; staff change patients in the admin, not here."""

    # Declared fields ignore Meta.read_only_fields.
    mobile = PhoneNumberField(read_only=True)
    date_of_birth = serializers.DateField(read_only=True)

    class Meta(PatientSerializer.Meta):
        fields = [*PatientSerializer.Meta.fields, "is_active", "created_at"]
        read_only_fields = [*PatientSerializer.Meta.fields, "is_active", "created_at"]


class RegistrationReceivedSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text="The address as the account stores it.")
    detail = serializers.CharField()


REGISTRATION_RECEIVED = (
    "Thank you. Sign in at /api/v1/auth/token/ with this email address and password. "
    "If the address already had an account, nothing was changed and its owner has been "
    "told by email."
)


@extend_schema(
    summary="Register as a patient",
    description="Creates the login (email) and the patient record together; then sign in "
    "at `/api/v1/auth/token/`. The answer is the same whether or not the address already "
    "has an account (so that nobody can find out which addresses do): for one that has, "
    "nothing is created or changed, and its owner is emailed instead.",
    tags=["auth"],
    request=RegistrationSerializer,
    responses={201: RegistrationReceivedSerializer},
)
class RegisterView(generics.GenericAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    serializer_class = RegistrationSerializer

    def post(self, request: Request) -> Response:
        registration = RegistrationSerializer(data=request.data)
        registration.is_valid(raise_exception=True)
        data = registration.validated_data
        with transaction.atomic():
            patient = register_patient(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                mobile=data["phone"],
                date_of_birth=data["date_of_birth"],
            )
            if patient is not None:
                record(
                    Action.CREATE,
                    request=request,
                    actor=patient.user,
                    obj=patient,
                    detail={"path": request.path},
                )
        body = {"email": data["email"], "detail": REGISTRATION_RECEIVED}
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary="My profile",
        tags=["patients"],
        responses={200: PatientSerializer},
    ),
    patch=extend_schema(
        summary="Update my contact details and reminder consents",
        description="Name and date of birth identify the patient: a change to either is "
        "refused (400 `identity_locked`, naming the field; reception corrects them). Sent "
        "unchanged, they are accepted.",
        tags=["patients"],
        responses={
            200: PatientSerializer,
        },
    ),
)
class MeView(AuditedMixin, generics.GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = PatientSerializer
    http_method_names = ["get", "patch", "options", "head"]

    def get_object(self) -> Patient:
        patient = self.request.user.patient
        self.check_object_permissions(self.request, patient)
        return patient

    def get(self, request: Request) -> Response:
        return Response(PatientSerializer(request.user.patient).data)

    def patch(self, request: Request) -> Response:
        patient = self.get_object()
        edit = PatientSerializer(patient, data=request.data, partial=True)
        edit.is_valid(raise_exception=True)
        patient = update_own_profile(patient=patient, changes=dict(edit.validated_data))
        return Response(PatientSerializer(patient).data)


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


class BreakGlassRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=BREAK_GLASS_MAX_REASON,
        help_text="Why you need this patient's records now; the clinic manager reviews it.",
    )


class BreakGlassAccessSerializer(serializers.ModelSerializer):
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
        responses={201: BreakGlassAccessSerializer},
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
