"""Which appointments a user may see: the one place that decides it for the API."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role, is_front_desk, is_staff_member, roles_of

from .availability import Slot
from .models import (
    OCCUPYING_STATUSES,
    UPCOMING_STATUSES,
    Appointment,
    ClassPlace,
    ClassStatus,
    Course,
    GroupClass,
    PlaceStatus,
    SlotHold,
    Status,
)


def appointments_for(user: User) -> QuerySet[Appointment]:
    """Reception and managers see every booking; a practitioner their own diary; a patient
    their own appointments; anyone else nothing."""
    return _seen_by(
        user,
        Appointment.objects.select_related(
            "patient", "practitioner__user", "service", "location", "room"
        ),
    )


def courses_for(user: User) -> QuerySet[Course]:
    """The courses whose visits `user` sees as `appointments_for` does: every one for the
    front desk, a practitioner's own, a patient's own."""
    return _seen_by(user, Course.objects.select_related("location"))


def _seen_by(user: User, rows: QuerySet) -> QuerySet:
    """`rows` (with a practitioner and a patient) as `user` sees them: every one for the
    front desk, a practitioner's own, a patient's own, none for anyone else."""
    if is_front_desk(user):
        return rows
    roles = roles_of(user)
    mine = Q()
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        mine |= Q(practitioner=user.practitioner)
    if Role.PATIENT in roles:
        mine |= Q(patient=user.patient)
    return rows.filter(mine) if mine else rows.none()


def booked_between(user: User, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """What `user` sees of the diary from `start` to `end`, cancelled and no-shows included:
    the front desk needs to see who is not coming too."""
    return appointments_for(user).filter(start__gte=start, start__lt=end).order_by("start")


def arrivals_between(user: User, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Who is expected, or already here, between `start` and `end`: the front desk's
    arrivals list."""
    return booked_between(user, start, end).filter(status__in=UPCOMING_STATUSES)


def unconfirmed_between(user: User, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Booked appointments whose patient has not said they will come: reception calls them."""
    return booked_between(user, start, end).filter(status=Status.BOOKED, confirmed_at=None)


def first_visits(patient_ids: Iterable[int]) -> dict[int, datetime]:
    """When each of these patients' first visit is (their earliest appointment that holds its
    time: booked, checked in or completed), in one query; patients with none are left out.
    The appointment at that moment is the patient's first visit, which the practitioner
    prepares for; a cancelled one before it does not count."""
    ids = set(patient_ids)
    if not ids:
        return {}
    return dict(
        Appointment.objects.filter(patient_id__in=ids, status__in=OCCUPYING_STATUSES)
        .order_by()
        .values("patient_id")
        .annotate(first=Min("start"))
        .values_list("patient_id", "first")
    )


def classes_for(user: User) -> QuerySet[GroupClass]:
    """The group classes `user` may look up, each with `places_left`: staff every one
    (cancelled and past too), anyone else the scheduled ones."""
    classes = GroupClass.objects.select_related(
        "service", "practitioner__user", "location", "room"
    ).annotate(
        places_booked=Count("places", filter=Q(places__status=PlaceStatus.BOOKED)),
        places_left=F("capacity") - F("places_booked"),
    )
    if is_staff_member(user):
        return classes
    return classes.filter(status=ClassStatus.SCHEDULED)


def open_classes(user: User, now: datetime) -> QuerySet[GroupClass]:
    """The timetable: scheduled classes still to come with a place left, soonest first."""
    return (
        classes_for(user)
        .filter(status=ClassStatus.SCHEDULED, start__gt=now, places_left__gt=0)
        .order_by("start", "pk")
    )


def class_places_for(user: User) -> QuerySet[ClassPlace]:
    """The places in group classes `user` sees, and so whose attendees: the front desk
    every one, a coach those of their own classes, a patient their own, nobody else any."""
    places = ClassPlace.objects.select_related(
        "patient", "group_class__location", "group_class__service"
    )
    if is_front_desk(user):
        return places
    roles = roles_of(user)
    mine = Q()
    if Role.PRACTITIONER in roles and hasattr(user, "practitioner"):
        mine |= Q(group_class__practitioner=user.practitioner)
    if Role.PATIENT in roles:
        mine |= Q(patient=user.patient)
    return places.filter(mine) if mine else places.none()


def offered_times(slots: Sequence[Slot], *, now: datetime | None = None) -> dict[Slot, datetime]:
    """Of `slots` (staff's free slots), those that the clinic holds to offer to the waitlist
    (a live offer of the practitioner's time overlaps them), with when that hold ends:
    booking one withdraws the offer. One query."""
    if not slots:
        return {}
    holds = list(
        SlotHold.objects.filter(
            for_offer=True,
            expires_at__gt=now or timezone.now(),
            practitioner_id__in={slot.practitioner_id for slot in slots},
            start__lt=max(slot.end for slot in slots),
            blocked_until__gt=min(slot.start for slot in slots),
        ).values_list("practitioner_id", "start", "blocked_until", "expires_at")
    )
    offered = {}
    for slot in slots:
        for practitioner_id, start, until, expires_at in holds:
            if practitioner_id == slot.practitioner_id and start < slot.end and slot.start < until:
                offered[slot] = expires_at
                break
    return offered
