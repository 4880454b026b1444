"""The public catalogue: locations, services and practitioners' public profiles."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny

from kernel.rest import ModelSerializer

from .models import Discipline, Location, Practitioner, Service
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
