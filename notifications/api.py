"""The message log for staff: `GET /api/v1/notifications/`."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from appointments.api import NamedSerializer
from clinic.api_common import IsStaffMember

from .models import Delivery, Kind, Notification


class NotificationSerializer(serializers.ModelSerializer):
    patient = NamedSerializer()

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
        ]
        read_only_fields = fields


class NotificationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Delivery.choices)
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices)

    class Meta:
        model = Notification
        fields = ["patient", "appointment", "status", "kind", "channel"]


@extend_schema_view(
    list=extend_schema(
        summary="The message log",
        description="Every confirmation, reminder, notice, prompt and recall: kind, channel, "
        "patient, appointment, status, attempts and times. Staff only.",
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
    queryset = Notification.objects.select_related("patient").order_by("-due_at", "-pk")
