"""Patients over HTTP: self-registration, a patient's own profile, staff search, and a
practitioner's "break the glass"."""

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.access import IsPatient
from accounts.lifecycle import ask_email_change
from accounts.serializers import NormalizedEmailField
from audit.mixins import AuditedMixin
from audit.models import Action
from audit.services import record
from kernel.rest import Serializer

from .models import Patient
from .serializers import PatientSerializer, validate_date_of_birth
from .services import register_patient, update_own_profile


class RegistrationSerializer(Serializer):
    email = NormalizedEmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = PhoneNumberField(help_text="A mobile number; stored in E.164 (+61412345678).")
    date_of_birth = serializers.DateField(validators=[validate_date_of_birth])
    # Asked per channel, never assumed: the website shows each as an unticked box, and a
    # patient who does not tick one gets nothing on that channel (README: Messages).
    consent_email = serializers.BooleanField(
        default=False,
        help_text="The patient agrees to booking confirmations, reminders and notices by "
        "email. Ask with an unticked box; absent means no.",
    )
    consent_sms = serializers.BooleanField(
        default=False,
        help_text="The same by SMS, to `phone`. Ask with an unticked box; absent means no.",
    )


class RegistrationReceivedSerializer(Serializer):
    email = serializers.EmailField(help_text="The address as the account stores it.")
    detail = serializers.CharField()


REGISTRATION_RECEIVED = (
    "Thank you. Sign in at /api/v1/auth/token/ with this email address and password, and "
    "open the link we email to it to confirm it before you book. If the address already "
    "had an account, nothing was changed and its owner has been told by email."
)


@extend_schema(
    summary="Register as a patient",
    description="Creates the login (email) and the patient record together; then sign in "
    "at `/api/v1/auth/token/`. A welcome email carries the link that confirms the address "
    "(`POST /api/v1/auth/verify-email/`); until then the patient cannot book (403 "
    "`email_unverified`). `consent_email` and `consent_sms` are the patient's answers "
    'to "may we send you confirmations and reminders by email / by SMS?", each asked '
    "with an unticked box: without a yes, nothing is sent on that channel. The answer is "
    "the same whether or not the address already has an account (so that nobody can find "
    "out which addresses do): for one that has, nothing is created or changed, and its "
    "owner is emailed instead.",
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
                consent_email=data["consent_email"],
                consent_sms=data["consent_sms"],
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
        "unchanged, they are accepted. A read-only field (`id`, `email`, "
        "`consents_updated_at`) or an unknown one is refused (400, naming it). Turning "
        "`consent_email` or `consent_sms` on schedules the reminders still ahead of every "
        "upcoming booking on that channel; turning it off withdraws every message not yet "
        "sent on it.",
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
        self.take_before_image(patient)
        return patient

    def get(self, request: Request) -> Response:
        return Response(PatientSerializer(request.user.patient).data)

    def patch(self, request: Request) -> Response:
        patient = self.get_object()
        edit = PatientSerializer(patient, data=request.data, partial=True)
        edit.is_valid(raise_exception=True)
        patient = update_own_profile(patient=patient, changes=dict(edit.validated_data))
        return Response(PatientSerializer(patient).data)


class EmailChangeSerializer(Serializer):
    email = NormalizedEmailField(help_text="The new address; it applies once confirmed.")
    password = serializers.CharField(
        write_only=True,
        max_length=128,
        style={"input_type": "password"},
        help_text="The current password, asked again.",
    )


class EmailChangeAskedSerializer(Serializer):
    detail = serializers.CharField()


EMAIL_CHANGE_ASKED = (
    "A link is on its way to the new address: your address changes when it is opened. "
    "Until then, nothing changes."
)


@extend_schema(
    summary="Change my email address",
    description="`email` is the new address and `password` the current one. Nothing changes "
    "yet: a link (`{SITE_URL}/#/verify-email?token=...`) goes to the new address, and "
    "following it (`POST /api/v1/auth/verify-email/`) makes it the account's address, "
    "confirmed (409 `email_taken` then if another account took it meanwhile); the old "
    "address is told. A later request replaces an earlier one. A wrong password or the "
    "same address is 400 naming the field. Limited per account (429).",
    tags=["patients"],
    request=EmailChangeSerializer,
    responses={202: EmailChangeAskedSerializer},
)
class MyEmailView(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = EmailChangeSerializer
    # Per account: the password is asked here too, and must not be guessed faster than at
    # sign-in.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    def post(self, request: Request) -> Response:
        body = EmailChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ask_email_change(
            user=request.user,
            email=body.validated_data["email"],
            password=body.validated_data["password"],
            request=request,
        )
        return Response({"detail": EMAIL_CHANGE_ASKED}, status=status.HTTP_202_ACCEPTED)
