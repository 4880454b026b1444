"""The message log for staff: `GET /api/v1/notifications/`."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from accounts.access import IsStaffMember
from kernel.rest import IdFilter, ModelSerializer, NamedSerializer

from .models import Delivery, Kind, Notification
from .selectors import notifications_for


class NotificationSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "channel",
            "patient",
            "appointment",
            "status",
            "attempts",
            "due_at",
            "sent_at",
            "recipient",
            "last_error",
            "provider_status",
            "provider_error",
        ]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    # Plain ids, not model choices: a choice filter would answer 400 for a patient who does
    # not exist and 200 for one the caller may not see, telling the two apart.
    patient = IdFilter(field_name="patient_id")
    appointment = IdFilter(field_name="appointment_id")
    status = django_filters.MultipleChoiceFilter(choices=Delivery.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Notification
        fields = ["patient", "appointment", "status", "kind", "channel"]


@extend_schema_view(
    list=extend_schema(
        summary="The message log",
        description="Every confirmation, reminder, notice, prompt and recall: kind, channel, "
        "patient, appointment, status, attempts and times, and what the email service or SMS "
        "provider last said of it (provider_status, provider_error). Staff only: reception and "
        "managers read every patient's, a practitioner those of the patients they treat.",
        tags=["notifications"],
    ),
    retrieve=extend_schema(summary="One message", tags=["notifications"]),
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    permission_classes = [IsAuthenticated, IsStaffMember]
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return notifications_for(self.request.user).order_by("-due_at", "-pk")
