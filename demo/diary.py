"""The demo patients' appointments: six months of past visits and four weeks of future
bookings, along each patient's pathway (assess, release, strengthen, maintain).

Every visit is booked through `appointments.services.book_appointment`, so it obeys every
booking rule: a past one at the moment reception would have booked it, a week ahead, with
its time from `free_slots` asked as of then; a future one at the seed's moment. A past
visit then lives through its day in the services as well: checked in and completed, marked
a no-show, or cancelled late, each at its own moment, so its status, its stamps and the
messages it schedules and withdraws are the services'. What its messages came to meanwhile
is `demo.messages`.

Deterministic for a given date: all choices come from one seeded `random.Random`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.availability import Slot, free_slots
from appointments.models import Appointment, Source, Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    mark_no_show,
)
from patients.models import Patient
from practice.models import Location, Practitioner, Service, WorkingHours

from . import data
from .messages import MessageLog, send_due

HISTORY_DAYS = 182
FUTURE_DAYS = 28
# How far past a target date we look for a free slot before trying someone else.
SEARCH_DAYS = 7
# Past visits were booked this long before they took place.
BOOKED_AHEAD = timedelta(days=7)

_LATE_CANCEL_REASONS = (
    "Unwell, called that morning",
    "Child sick, could not get away",
    "Stuck at work",
    "Car broke down",
)
_FUTURE_CANCEL_REASON = "Travelling for work that week; will rebook on return"


@dataclass
class _Profile:
    """How one patient moves through the pathway."""

    patient: Patient
    first_day: date
    home: Location
    myotherapist: Practitioner
    coach: Practitioner
    preferred_minute: int
    long_sessions: bool
    sciatica: bool


class Diary:
    """Books the demo patients' visits, past and future, and lives through the past ones."""

    def __init__(
        self,
        rng: random.Random,
        services: dict[str, Service],
        practitioners: dict[str, Practitioner],
        locations: dict[str, Location],
        *,
        now: datetime,
    ):
        self.rng = rng
        self.services = services
        self.locations = {location.pk: location for location in locations.values()}
        self.practitioners = {p.pk: p for p in practitioners.values()}
        self.zone = ZoneInfo(data.MELBOURNE)
        self.now = now
        self.today = timezone.localdate(now, self.zone)
        self.yesterday = self.today - timedelta(days=1)
        self.last_day = self.today + timedelta(days=FUTURE_DAYS)
        self.specialist = next(
            p for p in self.practitioners.values() if data.SCIATICA in p.disciplines
        )
        # How many days a week each practitioner works at each location.
        self.days_at = Counter(
            WorkingHours.objects.filter(practitioner__in=self.practitioners).values_list(
                "practitioner_id", "location_id"
            )
        )
        self.myotherapists: dict[int, list[Practitioner]] = {}
        self.coaches: dict[int, list[Practitioner]] = {}
        for location_id in self.locations:
            for practitioner in self.practitioners.values():
                if not self.days_at[practitioner.pk, location_id]:
                    continue
                if data.NMPT in practitioner.disciplines:
                    self.coaches.setdefault(location_id, []).append(practitioner)
                if data.MYO in practitioner.disciplines and practitioner != self.specialist:
                    self.myotherapists.setdefault(location_id, []).append(practitioner)
        self.messages = MessageLog()
        self.created = 0
        self.skipped = 0

    def run(self, patients: list[Patient]) -> tuple[int, int]:
        """Book every patient's pathway; return how many visits were booked and how many
        found no free slot."""
        profiles = [self._profile(patient) for patient in patients]
        for profile in profiles[-data.NEW_PATIENTS :]:
            profile.first_day = self.today - timedelta(
                days=self.rng.randint(*data.NEW_PATIENT_DAYS_AGO)
            )
        for profile in profiles:
            self._schedule(profile)
        # What the sender still had to do before the seed's moment (the notice of a late
        # cancellation, say); what falls due from then on is the workers' to send.
        send_due(before=self.now)
        self._cancel_a_few_future_bookings(patients)
        return self.created, self.skipped

    def _profile(self, patient: Patient) -> _Profile:
        rng = self.rng
        home = rng.choice(list(self.locations.values()))
        return _Profile(
            patient=patient,
            first_day=self.today - timedelta(days=rng.randint(14, HISTORY_DAYS)),
            home=home,
            myotherapist=self._someone(self.myotherapists[home.pk], home),
            coach=self._someone(self.coaches[home.pk], home),
            preferred_minute=rng.choice((7 * 60 + 30, 9 * 60, 11 * 60, 13 * 60, 16 * 60, 17 * 60)),
            long_sessions=rng.random() < 0.35,
            sciatica=rng.random() < 0.3,
        )

    def _someone(self, practitioners: list[Practitioner], location: Location) -> Practitioner:
        """Those who are there more days a week see more of the location's patients."""
        weights = [self.days_at[p.pk, location.pk] for p in practitioners]
        return self.rng.choices(practitioners, weights)[0]

    def _pathway(self, profile: _Profile) -> Iterator[tuple[str, int]]:
        """(service key, days after the previous visit): assess, release, strengthen, maintain."""
        rng = self.rng
        yield data.ASSESSMENT, 0
        if profile.sciatica:
            yield data.SCIATICA_CONSULT, rng.randint(2, 6)
        release = data.SMM_60 if profile.long_sessions else data.SMM_45
        for _ in range(rng.randint(3, 6)):
            yield release, rng.randint(5, 9)
        if profile.sciatica:
            yield data.SCIATICA_CONSULT, rng.randint(3, 7)  # review before loading the spine
        for session in range(rng.randint(4, 10)):
            yield data.NMPT_SESSION, rng.randint(3, 4)
            if session % 3 == 2:
                yield release, rng.randint(2, 4)
        while True:
            yield data.MAINTENANCE, rng.randint(21, 42)

    def _schedule(self, profile: _Profile) -> None:
        """Walk the patient's pathway from their first day until the booking horizon."""
        previous: date | None = None
        for key, gap in self._pathway(profile):
            target = profile.first_day if previous is None else previous + timedelta(days=gap)
            last_search_day = target + timedelta(days=SEARCH_DAYS - 1)
            beyond_horizon = last_search_day > self.last_day
            if beyond_horizon:
                if previous is not None and previous >= self.today:
                    return  # the next visit is booked; later ones are not yet
                # Everyone has a next visit booked: pull it into the coming fortnight.
                target = self.today + timedelta(days=self.rng.randint(1, FUTURE_DAYS // 2))
            day = self._visit(profile, self.services[key], target, first=previous is None)
            if day is None:
                self.skipped += 1
            if day is None and previous is None:
                return  # no assessment, no pathway
            previous = day or previous
            if beyond_horizon:
                return

    def _visit(
        self, profile: _Profile, service: Service, target: date, *, first: bool
    ) -> date | None:
        """Book one visit on the first day from `target` that has a slot; return that day."""
        if target <= self.yesterday:
            last = min(target + timedelta(days=SEARCH_DAYS - 1), self.yesterday)
            # Ask as reception would have, a week before `target`.
            asked = datetime.combine(target, time(), tzinfo=self.zone) - BOOKED_AHEAD
            slot = self._find(profile, service, target, last, now=asked)
            if slot is not None:
                self._live_through(profile, service, slot, first=first)
                return self._local_day(slot)
            target = self.today
        last = min(target + timedelta(days=SEARCH_DAYS - 1), self.last_day)
        slot = self._find(profile, service, target, last, now=self.now)
        if slot is None:
            return None
        self._book(profile, service, slot, source=Source.RECEPTION, now=self.now)
        return self._local_day(slot)

    def _book(
        self, profile: _Profile, service: Service, slot: Slot, *, source: str, now: datetime
    ) -> Appointment:
        self.created += 1
        return book_appointment(
            patient=profile.patient,
            service=service,
            practitioner=self.practitioners[slot.practitioner_id],
            start=slot.start,
            location=self.locations[slot.location_id],
            source=source,
            now=now,
        )

    def _find(
        self, profile: _Profile, service: Service, first: date, last: date, *, now: datetime
    ) -> Slot | None:
        """The slot nearest the patient's usual time on the first day that has one: with
        their own practitioner at their home location if possible, then widening."""
        own = self._own_practitioner(profile, service)
        for practitioner, location in (
            (own, profile.home),
            (own, None),
            (None, profile.home),
            (None, None),
        ):
            slots = free_slots(
                service, first, last, practitioner=practitioner, location=location, now=now
            )
            if slots:
                return self._pick(profile, slots)
        return None

    def _own_practitioner(self, profile: _Profile, service: Service) -> Practitioner:
        """Sciatica patients are assessed by the specialist; the rest by their myotherapist."""
        if service.disciplines == [data.SCIATICA] or (service.is_assessment and profile.sciatica):
            return self.specialist
        if data.NMPT in service.disciplines:
            return profile.coach
        return profile.myotherapist

    def _pick(self, profile: _Profile, slots: list[Slot]) -> Slot:
        first_day = self._local_day(slots[0])
        preferred = profile.preferred_minute + self.rng.uniform(-45, 45)

        def distance(slot: Slot) -> float:
            local = slot.start.astimezone(self.zone)
            return abs(local.hour * 60 + local.minute - preferred)

        return min((s for s in slots if self._local_day(s) == first_day), key=distance)

    def _live_through(
        self, profile: _Profile, service: Service, slot: Slot, *, first: bool
    ) -> None:
        """A past visit: booked a week ahead, then attended (the first visit, the assessment,
        always), missed or cancelled late, each at its moment. Until that first change the
        visit was booked and ahead, and its messages went out as they fell due."""
        rng = self.rng
        roll = 1.0 if first else rng.random()
        online = service.bookable_online and rng.random() < 0.4
        source = Source.ONLINE if online else Source.RECEPTION
        visit = self._book(profile, service, slot, source=source, now=slot.start - BOOKED_AHEAD)
        if roll < 0.04:
            # Nobody came: marked when the session should have begun.
            self.messages.send_while_booked(visit, until=slot.start)
            mark_no_show(appointment=visit, by=None, now=slot.start)
        elif roll < 0.08:
            called = slot.start - timedelta(hours=rng.randint(2, 20))
            self.messages.send_while_booked(visit, until=called)
            cancel_appointment(
                appointment=visit, by=None, reason=rng.choice(_LATE_CANCEL_REASONS), now=called
            )
        else:
            arrived = slot.start - timedelta(minutes=rng.randint(2, 12))
            self.messages.send_while_booked(visit, until=arrived)
            visit = check_in_appointment(appointment=visit, by=None, now=arrived)
            complete_appointment(appointment=visit, by=None, now=slot.end)

    def _cancel_a_few_future_bookings(self, patients: list[Patient]) -> None:
        """Two patients have called to cancel a booking more than a week away."""
        cancelled = 0
        for patient in patients:
            booked = list(
                Appointment.objects.filter(patient=patient, status=Status.BOOKED).order_by("start")
            )
            if len(booked) >= 2 and booked[-1].start > self.now + timedelta(days=7):
                cancel_appointment(
                    appointment=booked[-1], by=None, reason=_FUTURE_CANCEL_REASON, now=self.now
                )
                cancelled += 1
                if cancelled == 2:
                    return

    def _local_day(self, slot: Slot) -> date:
        return slot.start.astimezone(self.zone).date()
