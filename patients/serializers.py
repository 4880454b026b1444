"""A patient as the API shows them: to themselves (`PatientSerializer`) and to staff
(`StaffPatientSerializer`, read only)."""

from datetime import date

from django.utils import timezone
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from kernel.rest import ModelSerializer

from .models import Patient

OLDEST_AGE_YEARS = 120


def validate_date_of_birth(value: date) -> date:
    today = timezone.localdate()
    if value > today:
        raise serializers.ValidationError("Cannot be in the future.")
    if value.year < today.year - OLDEST_AGE_YEARS:
        raise serializers.ValidationError("Check the year.")
    return value


class PatientSerializer(ModelSerializer):
    """A patient's details and reminder consents."""

    # `phone`, as registration (API.md) calls it; the record's field is `mobile`.
    phone = PhoneNumberField(
        source="mobile",
        required=False,
        allow_blank=True,
        help_text="A mobile number; stored in E.164 (+61412345678).",
    )
    date_of_birth = serializers.DateField(validators=[validate_date_of_birth])
    email_verified = serializers.SerializerMethodField(
        help_text="Whether the patient has confirmed their email address (the link sent on "
        "registration); until then they cannot book online."
    )

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "preferred_channel",
            "consent_email",
            "consent_sms",
            "consents_updated_at",
            "email_verified",
        ]
        read_only_fields = ["id", "email", "consents_updated_at", "email_verified"]

    def get_email_verified(self, patient: Patient) -> bool:
        return patient.user is not None and patient.user.email_verified


class StaffPatientSerializer(PatientSerializer):
    """A patient as staff read them; staff change patients in the admin, not here."""

    # Declared fields ignore Meta.read_only_fields.
    phone = PhoneNumberField(source="mobile", read_only=True)
    date_of_birth = serializers.DateField(read_only=True)
    email_verified = None  # the patient's own: staff read the record, not the login

    class Meta(PatientSerializer.Meta):
        _fields = [name for name in PatientSerializer.Meta.fields if name != "email_verified"]
        fields = [*_fields, "is_active", "created_at"]
        read_only_fields = [*_fields, "is_active", "created_at"]
