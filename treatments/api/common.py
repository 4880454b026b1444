"""What the clinical API's modules share: who may read and write (the permissions and the
viewset every clinical record's view starts from) and the fields of their bodies."""

from decimal import Decimal

from django.db import models
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.models import User
from accounts.roles import Role, is_clinical, roles_of
from audit.mixins import AuditedMixin
from kernel.rest import IdRelatedField
from practice.models import Practitioner

from ..selectors import clinical_patients_for

MAX_TEXT = 20_000  # characters of one free-text answer
CLINICAL_TAGS = ["clinical records"]


# --- who may ---------------------------------------------------------------------------


class CanReadClinicalRecords(BasePermission):
    """Practitioners and managers; which patients' records each sees is the selectors'
    business (`treatments.selectors.clinical_patients_for`)."""

    message = "Clinical records are for practitioners and managers."

    def has_permission(self, request, view) -> bool:
        return is_clinical(request.user)


class HoldsTheAdminsPermission(BasePermission):
    """A write needs the Django permission that the admin asks for the same act, from the
    user's role group (`accounts.permissions`): one rule per action, whichever door. Reading
    is `CanReadClinicalRecords`'; which patients, the selectors'; and the services keep the
    rules of each record (a note's author, a clearance by a practitioner who treats the
    patient). Each view names the permission of each of its write actions in
    `write_permissions`; a write action it does not name is refused."""

    message = "Your role may read these records but not write them."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or view.action is None:
            return True  # reads; or a method the view does not offer (DRF answers 405)
        needed = view.write_permissions.get(view.action)
        return needed is not None and request.user.has_perm(needed)


class ClinicalRecordViewSet(
    AuditedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Clinical records: read by those who may (the selectors decide which patients'),
    answered as they now stand in the database; every read and change audited."""

    permission_classes = [IsAuthenticated, CanReadClinicalRecords, HoldsTheAdminsPermission]
    write_permissions: dict[str, str] = {}

    def _answer(self, record, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.get_serializer(self.get_queryset().get(pk=record.pk)).data, status=code
        )


def practitioner_of(user: User) -> Practitioner:
    """The practitioner record of a user who writes as a practitioner, or 403."""
    practitioner = getattr(user, "practitioner", None)
    if practitioner is None or Role.PRACTITIONER not in roles_of(user):
        raise PermissionDenied("Only practitioners write notes and plans.")
    return practitioner


# --- shared fields ---------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice among the values of one of the models' choice classes, documented as one
    enum component named after that class (`PhaseEnum`, `RedFlagEnum`...) wherever it is
    used. drf-spectacular would name enums after fields instead, and warn (failing
    `spectacular --fail-on-warn`) when one set has two names (`pain_locations`,
    `symptom_locations`) or one name two sets (`status`)."""

    def __init__(self, enum: type[models.TextChoices], **kwargs):
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)


class NamedChoiceFieldSchema(OpenApiSerializerFieldExtension):
    """A `$ref` to the enum's component, registered on first use."""

    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction):
        enum = self.target.enum
        name = f"{enum.__name__}Enum"
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema={
                "type": "string",
                "enum": list(enum.values),
                "description": "\n".join(f"* `{value}` - {label}" for value, label in enum.choices),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class NumberField(serializers.DecimalField):
    """A decimal read and written as a JSON number (e.g. 30.5, not "30.5")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


class NumberFieldSchema(OpenApiSerializerFieldExtension):
    """Its bounds as JSON numbers: drf-spectacular copies DRF's `Decimal` bounds as they are."""

    target_class = NumberField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {k: float(v) if isinstance(v, Decimal) else v for k, v in schema.items()}


class ChoiceListField(serializers.ListField):
    """A 'tick all that apply' answer: a list of distinct values of one set of choices."""

    def __init__(self, enum: type[models.TextChoices], **kwargs):
        kwargs.setdefault("child", NamedChoiceField(enum))
        kwargs.setdefault("max_length", len(enum.choices))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if len(set(values)) != len(values):
            raise serializers.ValidationError("Give each choice at most once.")
        return values


def text_field(**kwargs) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("max_length", MAX_TEXT)
    return serializers.CharField(**kwargs)


def score_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=10, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePatientField(IdRelatedField):
    """A patient id, among the patients whose clinical records the caller may see."""

    def get_queryset(self):
        return clinical_patients_for(self.context["request"].user)
