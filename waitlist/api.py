"""`/api/v1/waitlist/`: patients put themselves on the waitlist and leave it; the front
desk puts patients on it, marks them urgent, changes and ends their entries; everyone reads
the entries `selectors.entries_for` gives them."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from accounts.access import IsPatient
from accounts.roles import Role, is_front_desk, roles_of
from appointments.selectors import appointments_for
from care.selectors import patients_for
from kernel.rest import (
    FORBIDDEN,
    NOT_FOUND,
    VALIDATION_ERROR,
    CalendarDateField,
    IdRelatedField,
    ModelSerializer,
    NamedSerializer,
    Serializer,
    ZonedDateTimeField,
    error_response,
)
from practice.models import Location, Practitioner, Service

from .models import EndReason, OfferStatus, WaitlistEntry, WaitlistOffer
from .offers import accept_offer, decline_offer, offer_of_token, status_now
from .selectors import entries_with_live_offers_for, own_offers_for
from .services import Wish, change_entry, join_waitlist, leave_waitlist


class AtLocationField(ZonedDateTimeField):
    """A time of the offer on its location's clock, with the offset: as an appointment's
    times read (the booking site shows the text's wall-clock time)."""

    def get_attribute(self, offer: WaitlistOffer) -> Any:
        moment = super().get_attribute(offer)
        return moment.astimezone(offer.location.zone)


class OfferSerializer(serializers.Serializer):
    """An offer as its link shows it: no patient's name, nothing but the time offered."""

    service = serializers.CharField(source="service.name", read_only=True)
    practitioner = serializers.SerializerMethodField()
    location = serializers.CharField(source="location.name", read_only=True)
    address = serializers.CharField(source="location.address", read_only=True)
    start = AtLocationField(read_only=True)
    end = AtLocationField(read_only=True)
    expires_at = AtLocationField(read_only=True)
    status = serializers.SerializerMethodField(
        help_text="`offered` while it can be taken; an offer past its expiry is `expired` "
        "even before the sweep marks it."
    )
    appointment = serializers.IntegerField(
        source="appointment_id",
        allow_null=True,
        read_only=True,
        help_text="The booking, once accepted.",
    )

    @extend_schema_field(serializers.ChoiceField(choices=OfferStatus.choices))
    def get_status(self, offer: WaitlistOffer) -> str:
        return status_now(offer)

    def get_practitioner(self, offer: WaitlistOffer) -> str:
        # Never the login email a practitioner without a name would otherwise show.
        return offer.practitioner.user.get_full_name() or "your practitioner"


class OwnOfferSerializer(OfferSerializer):
    """An offer as its patient sees it signed in: with the id they take or pass it by."""

    id = serializers.UUIDField(
        source="public_id",
        read_only=True,
        help_text="`POST /api/v1/waitlist/offers/{id}/accept/` (or `decline/`), signed in.",
    )


class LiveOfferSerializer(OwnOfferSerializer):
    """An entry's offer that can be taken now (`selectors.entries_with_live_offers_for`
    gives only those): its status is the stored one, `offered`."""

    status = serializers.ChoiceField(choices=OfferStatus.choices, read_only=True)


class WaitlistEntrySerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    service_name = serializers.CharField(
        source="service.name",
        read_only=True,
        help_text="What the entry waits for, in words (the catalogue lists only the services "
        "booked online).",
    )
    note = serializers.SerializerMethodField(
        help_text="The front desk's note; null for patients, who do not see it."
    )
    end_reason = serializers.SerializerMethodField(help_text="Null while the entry is open.")
    offers = LiveOfferSerializer(
        source="live_offers",
        many=True,
        read_only=True,
        help_text="The times offered to this entry that can be taken now (at most one).",
    )

    class Meta:
        model = WaitlistEntry
        fields = [
            "id",
            "patient",
            "service",
            "service_name",
            "practitioners",
            "locations",
            "weekdays",
            "earliest_time",
            "latest_time",
            "earliest_date",
            "latest_date",
            "sooner_than",
            "urgent",
            "note",
            "created_at",
            "ended_at",
            "end_reason",
            "offers",
        ]
        read_only_fields = fields

    def get_note(self, entry: WaitlistEntry) -> str | None:
        return entry.note if is_front_desk(self.context["request"].user) else None

    @extend_schema_field(serializers.ChoiceField(choices=EndReason.choices, allow_null=True))
    def get_end_reason(self, entry: WaitlistEntry) -> str | None:
        return entry.end_reason or None


@extend_schema_field(OpenApiTypes.INT)
class OwnAppointmentField(IdRelatedField):
    """An appointment among those the caller sees: a patient cannot learn by it whether
    another patient's booking exists."""

    def get_queryset(self):
        return appointments_for(self.context["request"].user)


@extend_schema_field(OpenApiTypes.INT)
class VisiblePatientField(IdRelatedField):
    def get_queryset(self):
        return patients_for(self.context["request"].user)


class WishSerializer(Serializer):
    """What a patient waits for: empty lists mean any."""

    practitioners = IdRelatedField(
        many=True, required=False, queryset=Practitioner.objects.all(), help_text="None: any."
    )
    locations = IdRelatedField(
        many=True, required=False, queryset=Location.objects.all(), help_text="None: any."
    )
    weekdays = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="0 = Monday .. 6 = Sunday, each once; none: any day.",
    )
    earliest_time = serializers.TimeField(required=False, allow_null=True)
    latest_time = serializers.TimeField(required=False, allow_null=True)
    earliest_date = CalendarDateField(required=False, allow_null=True)
    latest_date = CalendarDateField(help_text="The entry ends after this day.")
    sooner_than = OwnAppointmentField(
        required=False,
        allow_null=True,
        help_text="The patient's own upcoming booking of the service, to bring forward.",
    )


class StaffWishSerializer(WishSerializer):
    urgent = serializers.BooleanField(required=False, help_text="Staff only.")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Staff only."
    )


class JoinSerializer(WishSerializer):
    service = IdRelatedField(queryset=Service.objects.all())


PATIENT_HELP = "Staff: the patient put on the waitlist. Patients: leave it out."


class StaffJoinSerializer(StaffWishSerializer, JoinSerializer):
    patient = VisiblePatientField(help_text=PATIENT_HELP)


class JoinRequestSerializer(StaffJoinSerializer):
    """As the schema documents it: `patient`, `urgent` and `note` are for staff; a patient
    joins for themselves and sends none of them (400 naming the field)."""

    patient = VisiblePatientField(required=False, help_text=PATIENT_HELP)


class ChangeRequestSerializer(StaffWishSerializer):
    """As the schema documents it: `urgent` and `note` are for staff."""


class WaitlistAccess(BasePermission):
    """Anyone signed in reads (the selector decides what); patients and the front desk
    write. A practitioner reads the waitlist of the patients in their care, and no more."""

    message = "Only patients and the front desk change the waitlist."

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return is_front_desk(request.user) or Role.PATIENT in roles_of(request.user)


WAITLIST_REFUSED = error_response(
    "The waitlist's rules refused it.",
    ("already_on_waitlist", "Ari Assessed is already on the waitlist for Myotherapy 45."),
    ("entry_ended", "This waitlist entry has already ended."),
    ("patient_inactive", "This patient's record is not active."),
)
TAGS = ["waitlist"]


@extend_schema_view(
    list=extend_schema(
        summary="Waitlist entries",
        description="A patient sees their own; reception and managers every one; a "
        "practitioner those of the patients in their care that name them or take any "
        "practitioner. Open and ended entries, newest first.",
        tags=TAGS,
    ),
    retrieve=extend_schema(summary="One waitlist entry", responses={404: NOT_FOUND}, tags=TAGS),
    create=extend_schema(
        summary="Join the waitlist",
        description="A patient joins for themselves (no verified email needed: only "
        "booking needs one); staff name the `patient` and may mark the entry `urgent`. One "
        "open entry per patient and service.",
        request=JoinRequestSerializer,
        responses={
            201: WaitlistEntrySerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            409: WAITLIST_REFUSED,
        },
        tags=TAGS,
    ),
    partial_update=extend_schema(
        summary="Change what an entry waits for",
        description="The fields sent change, the others stay; the same rules as joining.",
        request=ChangeRequestSerializer,
        responses={
            200: WaitlistEntrySerializer,
            400: VALIDATION_ERROR,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: WAITLIST_REFUSED,
        },
        tags=TAGS,
    ),
    destroy=extend_schema(
        summary="Leave the waitlist",
        description="Ends the entry (it stays on file): a patient leaves it, staff remove it.",
        responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND, 409: WAITLIST_REFUSED},
        tags=TAGS,
    ),
)
class WaitlistEntryViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, WaitlistAccess]
    serializer_class = WaitlistEntrySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return entries_with_live_offers_for(self.request.user).order_by("-created_at", "-pk")

    def create(self, request: Request) -> Response:
        staff = is_front_desk(request.user)
        data = self._valid(StaffJoinSerializer if staff else JoinSerializer, request)
        patient = data.pop("patient") if staff else request.user.patient
        service = data.pop("service")
        entry = join_waitlist(patient=patient, service=service, wish=Wish(**data), by=request.user)
        return Response(self._shown(entry), status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        entry = self.get_object()
        wish = StaffWishSerializer if is_front_desk(request.user) else WishSerializer
        changes = self._valid(wish, request, partial=True)
        entry = change_entry(entry=entry, changes=changes, by=request.user)
        return Response(self._shown(entry))

    def destroy(self, request: Request, pk: str) -> Response:
        reason = EndReason.REMOVED_BY_STAFF if is_front_desk(request.user) else EndReason.LEFT
        leave_waitlist(entry=self.get_object(), reason=reason)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _valid(self, serializer_class, request: Request, **options: Any) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context={"request": request}, **options)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _shown(self, entry: WaitlistEntry) -> dict[str, Any]:
        return self.get_serializer(self.get_queryset().get(pk=entry.pk)).data


# --- offers of freed time: the link in the message, no sign-in; or by id, signed in ------


OFFER_REFUSED = error_response(
    "The offer has ended: taken by someone else or withdrawn (`offer_taken`), already "
    "used (`offer_used`), expired (`offer_expired`), declined (`offer_declined`); or the "
    "booking rules refused it now (as for a booking, e.g. `slot_unavailable`). The entry "
    "stays on the waitlist.",
    ("offer_taken", "Sorry, this time is no longer available; you stay on the waitlist."),
    ("offer_used", "You have already taken this time: it is booked."),
    ("offer_expired", "Sorry, this offer has expired; you stay on the waitlist for the next one."),
    ("offer_declined", "You passed on this time; you stay on the list."),
)
OFFER_TAGS = ["waitlist"]
TOKEN_HELP = "The signed secret of the offer's link, as sent in the message."


class _OfferLinkView(GenericAPIView):
    """Open to anyone: the signed token in the path is the proof (as for the account
    links), throttled per client address. A forged or mangled token is 404."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"
    serializer_class = OfferSerializer

    def offer(self, token: str) -> WaitlistOffer:
        offer = offer_of_token(token)
        if offer is None:
            raise NotFound()
        return offer


@extend_schema(
    summary="A waitlist offer, by its link",
    description="What the link in an offer's message shows: the service, practitioner, "
    "time and place held for the patient, until `expires_at`. No sign-in: the token is the "
    "secret.",
    parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description=TOKEN_HELP)],
    responses={200: OfferSerializer, 404: NOT_FOUND},
    tags=OFFER_TAGS,
)
class OfferView(_OfferLinkView):
    def get(self, request: Request, token: str) -> Response:
        return Response(OfferSerializer(self.offer(token)).data)


@extend_schema(
    summary="Take a waitlist offer",
    description='Books the held time for the patient (or, for an entry "sooner than" '
    "a booking, moves that booking into it) and ends the entry. Once only: a second "
    "acceptance, by this link or another patient's of the same time, is 409.",
    parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description=TOKEN_HELP)],
    request=None,
    responses={200: OfferSerializer, 404: NOT_FOUND, 409: OFFER_REFUSED},
    tags=OFFER_TAGS,
)
class AcceptOfferView(_OfferLinkView):
    def post(self, request: Request, token: str) -> Response:
        offer = self.offer(token)
        accept_offer(offer=offer)
        return Response(OfferSerializer(offer_of_token(token)).data)


@extend_schema(
    summary="Pass on a waitlist offer",
    description="The patient does not want this time: it goes to the next on the list, and "
    "the patient stays on the waitlist.",
    parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH, description=TOKEN_HELP)],
    request=None,
    responses={200: OfferSerializer, 404: NOT_FOUND, 409: OFFER_REFUSED},
    tags=OFFER_TAGS,
)
class DeclineOfferView(_OfferLinkView):
    def post(self, request: Request, token: str) -> Response:
        offer = self.offer(token)
        decline_offer(offer=offer)
        return Response(OfferSerializer(offer_of_token(token)).data)


# --- a signed-in patient's own offers, by id ----------------------------------------------

OFFER_ID_HELP = "The offer's `id`, as listed in its waitlist entry's `offers`."


class _OwnOfferView(GenericAPIView):
    """A signed-in patient takes or passes their own offer by its id, as the link does:
    another patient's is 404, and staff are not the patient (403)."""

    permission_classes = [IsAuthenticated, IsPatient]
    serializer_class = OwnOfferSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return own_offers_for(self.request.user)

    def answered(self, offer: WaitlistOffer) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=offer.pk)).data)


OWN_OFFER_PARAMETERS = [
    OpenApiParameter(
        "public_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=OFFER_ID_HELP
    )
]


class AcceptOwnOfferView(_OwnOfferView):
    @extend_schema(
        operation_id="v1_waitlist_offers_accept_mine",
        summary="Take my waitlist offer",
        description="As the link's `accept/`, signed in as the patient it was offered to: "
        "books the held time (or moves the linked booking into it) and ends the entry.",
        parameters=OWN_OFFER_PARAMETERS,
        request=None,
        responses={200: OwnOfferSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: OFFER_REFUSED},
        tags=OFFER_TAGS,
    )
    def post(self, request: Request, public_id: str) -> Response:
        offer = self.get_object()
        accept_offer(offer=offer)
        return self.answered(offer)


class DeclineOwnOfferView(_OwnOfferView):
    @extend_schema(
        operation_id="v1_waitlist_offers_decline_mine",
        summary="Pass on my waitlist offer",
        description="As the link's `decline/`, signed in: the time goes to the next on the "
        "list and the patient stays on the waitlist.",
        parameters=OWN_OFFER_PARAMETERS,
        request=None,
        responses={200: OwnOfferSerializer, 403: FORBIDDEN, 404: NOT_FOUND, 409: OFFER_REFUSED},
        tags=OFFER_TAGS,
    )
    def post(self, request: Request, public_id: str) -> Response:
        offer = self.get_object()
        decline_offer(offer=offer)
        return self.answered(offer)
