"""The public catalogue: what the clinic offers, where, and by whom."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.roles import is_staff_member

from .models import Leave, Location, Practitioner, Service, WorkingHours


def locations_for(user: User) -> QuerySet[Location]:
    return Location.objects.filter(is_active=True)


def services_for(user: User) -> QuerySet[Service]:
    """Staff see every active service; the public only those bookable online."""
    services = Service.objects.filter(is_active=True)
    return services if is_staff_member(user) else services.filter(bookable_online=True)


def practitioners_for(user: User) -> QuerySet[Practitioner]:
    """Active practitioners with the rota lines that say where they work."""
    return (
        Practitioner.objects.filter(is_active=True)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "rota",
                queryset=WorkingHours.objects.filter(location__is_active=True).only(
                    "practitioner_id", "location_id"
                ),
            )
        )
    )


def leave_overlapping(
    start: datetime, end: datetime, practitioner_ids: Iterable[int] | None = None
) -> list[Leave]:
    """The leave that covers any part of `start`..`end`, of these practitioners (or all)."""
    leave = Leave.objects.filter(start__lt=end, end__gt=start).order_by("start")
    if practitioner_ids is not None:
        leave = leave.filter(practitioner_id__in=list(practitioner_ids))
    return list(leave)
