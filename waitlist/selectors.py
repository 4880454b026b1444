"""Who sees which waitlist entries: the one place that decides it for the API and the
admin."""

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from accounts.roles import Role, is_front_desk, roles_of
from care.selectors import in_care_of
from practice.models import Practitioner

from .models import WaitlistEntry, WaitlistOffer
from .offers import live_offers


def entries_for(user: User) -> QuerySet[WaitlistEntry]:
    """A patient sees their own entries; reception and managers every one; a practitioner
    those of the patients in their care (`care.selectors.in_care_of`) that name them or
    take any practitioner; nobody else any. Open and ended alike, newest first."""
    entries = WaitlistEntry.objects.select_related(
        "patient", "service", "sooner_than"
    ).prefetch_related(
        # A practitioner goes by their user's name.
        Prefetch("practitioners", queryset=Practitioner.objects.select_related("user")),
        "locations",
    )
    roles = roles_of(user)
    if is_front_desk(user):
        return entries
    visible = Q(pk__in=[])
    if Role.PATIENT in roles:
        visible |= Q(patient=user.patient)
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        practitioner = user.practitioner
        names_them = Q(practitioners=practitioner) | Q(practitioners__isnull=True)
        matching = WaitlistEntry.objects.filter(names_them).values("pk")
        visible |= in_care_of(practitioner, "patient") & Q(pk__in=matching)
    return entries.filter(visible)


def offers_for(user: User) -> QuerySet[WaitlistOffer]:
    """The offers of the entries `entries_for(user)` gives, with what their lists show."""
    return WaitlistOffer.objects.filter(
        entry__in=entries_for(user).order_by().values("pk")
    ).select_related("entry__patient", "service", "practitioner__user", "location", "offered_by")


def entries_with_live_offers_for(
    user: User, *, now: datetime | None = None
) -> QuerySet[WaitlistEntry]:
    """`entries_for(user)`, each with `live_offers`: the offers of it that can be taken now
    (`offers.live_offers`; one at most, the database keeps one live offer per entry)."""
    offers = WaitlistOffer.objects.select_related("service", "practitioner__user", "location")
    return entries_for(user).prefetch_related(
        Prefetch("offers", queryset=live_offers(offers, now=now), to_attr="live_offers")
    )


def own_offers_for(user: User) -> QuerySet[WaitlistOffer]:
    """The offers made to the user as a patient, live or ended: theirs to take or pass by
    id once signed in. Nobody else's, staff included (the desk books the time instead,
    which takes precedence over the offer)."""
    if Role.PATIENT not in roles_of(user):
        return WaitlistOffer.objects.none()
    return WaitlistOffer.objects.filter(entry__patient=user.patient).select_related(
        "entry__patient", "service", "practitioner__user", "location"
    )
