"""The public catalogue: locations, services and practitioners' public profiles."""

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.rest import ModelSerializer, Serializer

from .models import BookingRules, Discipline, Location, Practitioner, Service
from .selectors import locations_for, practitioners_for, services_for


class LocationSerializer(ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "address", "phone", "time_zone"]
        read_only_fields = fields  # the catalogue is the manager's, in the admin


class ServiceSerializer(ModelSerializer):
    disciplines = serializers.ListField(
        child=serializers.ChoiceField(Discipline.choices), read_only=True
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "duration_minutes",
            "price",
            "room_kind",
            "disciplines",
            "bookable_online",
            "courses_online",
            "is_assessment",
        ]
        read_only_fields = fields


class PractitionerSerializer(ModelSerializer):
    """A public profile: no email, no phone."""

    name = serializers.CharField(source="__str__", read_only=True)
    disciplines = serializers.ListField(
        child=serializers.ChoiceField(Discipline.choices), read_only=True
    )
    services = serializers.SerializerMethodField(help_text="Ids of the services they deliver.")
    locations = serializers.SerializerMethodField(help_text="Ids of the locations they work at.")

    class Meta:
        model = Practitioner
        fields = ["id", "name", "title", "bio", "disciplines", "services", "locations"]
        read_only_fields = fields

    def get_services(self, practitioner: Practitioner) -> list[int]:
        disciplines = set(practitioner.disciplines)
        return [
            service.pk
            for service in self.context["services"]
            if disciplines & set(service.disciplines)
        ]

    def get_locations(self, practitioner: Practitioner) -> list[int]:
        return sorted({line.location_id for line in practitioner.rota.all()})


@extend_schema_view(
    list=extend_schema(summary="Clinic locations", tags=["catalogue"]),
    retrieve=extend_schema(
        summary="One location",
        tags=["catalogue"],
        responses={200: LocationSerializer},
    ),
)
class LocationViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = LocationSerializer

    def get_queryset(self):
        return locations_for(self.request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Services",
        description="The public sees services bookable online; signed-in staff see all.",
        tags=["catalogue"],
    ),
    retrieve=extend_schema(
        summary="One service",
        tags=["catalogue"],
        responses={200: ServiceSerializer},
    ),
)
class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = ServiceSerializer

    def get_queryset(self):
        return services_for(self.request.user)


@extend_schema_view(
    list=extend_schema(summary="Practitioners' public profiles", tags=["catalogue"]),
    retrieve=extend_schema(
        summary="One practitioner",
        tags=["catalogue"],
        responses={200: PractitionerSerializer},
    ),
)
class PractitionerViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    serializer_class = PractitionerSerializer

    def get_queryset(self):
        return practitioners_for(self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["services"] = list(services_for(self.request.user).only("pk", "disciplines"))
        return context


class ClinicInfoSerializer(Serializer):
    name = serializers.CharField()
    phone = serializers.CharField(help_text="Whom to call, e.g. inside the cancellation window.")
    email = serializers.EmailField()
    cancellation_window_hours = serializers.IntegerField(
        help_text="Online, bookings cannot be cancelled or moved later than this before them."
    )
    online_horizon_days = serializers.IntegerField(help_text="How far ahead patients may book.")
    hold_minutes = serializers.IntegerField(
        help_text="How long `POST /api/v1/holds/` keeps a picked time."
    )
    new_patients_start_with_assessment = serializers.BooleanField(
        help_text="When true, a new patient's first booking must be a service with "
        "`is_assessment` (GET /api/v1/services/)."
    )
    time_zone = serializers.CharField(help_text="The clinic's default zone (IANA name).")


class ClinicInfoView(APIView):
    """What the booking site says about the clinic: its name and contacts and the booking
    rules it explains in words."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="The clinic: name, contacts and booking rules",
        tags=["catalogue"],
        responses={200: ClinicInfoSerializer},
    )
    def get(self, request: Request) -> Response:
        rules = BookingRules.current()
        return Response(
            ClinicInfoSerializer(
                {
                    "name": settings.CLINIC_NAME,
                    "phone": settings.CLINIC_PHONE,
                    "email": settings.CLINIC_EMAIL,
                    "cancellation_window_hours": rules.cancellation_window_hours,
                    "online_horizon_days": rules.online_horizon_days,
                    "hold_minutes": settings.HOLD_MINUTES,
                    "new_patients_start_with_assessment": rules.new_patients_start_with_assessment,
                    "time_zone": settings.TIME_ZONE,
                }
            ).data
        )
