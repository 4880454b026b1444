"""The diary versions (`practice.DiaryVersion`): the database moves a location's version on
with every committed change that can alter its free slots, whichever door the change comes
through (here mostly querysets' UPDATE and DELETE and raw SQL, which run no Python hook),
and only at commit.

Transactional tests: the triggers fire when a transaction commits, and a test wrapped in
one transaction would bump each version once at most.
"""

import threading
from collections.abc import Callable
from datetime import time, timedelta

import pytest
from django.db import connection, transaction

from appointments.models import Appointment, Status
from practice.models import (
    BookingRules,
    Break,
    DiaryVersion,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PractitionerFactory,
    RoomFactory,
    WorkingHoursFactory,
)
from tests.fixtures.clinic import NOW, TODAY, at

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = TODAY + timedelta(days=1)


def versions() -> dict[int, int]:
    return dict(DiaryVersion.objects.values_list("location_id", "version"))


def in_another_connection(action: Callable[[], object]) -> object:
    """What `action` returns when run in a thread, on a connection of its own."""
    result: list[object] = []

    def run():
        try:
            result.append(action())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return result[0]


class World:
    """Two locations; Mia works at Richmond, where she has one booking and one cancelled
    appointment."""

    def __init__(self, location, treatment_rooms, myotherapist, assessment):
        self.richmond, self.rooms, self.mia, self.service = (
            location,
            treatment_rooms,
            myotherapist,
            assessment,
        )
        self.cbd = LocationFactory(name="CBD")
        self.cbd_room = RoomFactory(location=self.cbd, name="CBD 1")
        self.booked = self.appointment(start=at(TUESDAY, 9), status=Status.BOOKED)
        self.cancelled = self.appointment(
            start=at(TUESDAY, 11), status=Status.CANCELLED, cancelled_at=NOW
        )
        self.line = WorkingHours.objects.filter(practitioner=self.mia, weekday=1).get()

    def appointment(self, **fields) -> Appointment:
        return AppointmentFactory(
            practitioner=self.mia,
            service=self.service,
            location=self.richmond,
            room=self.rooms[0],
            **fields,
        )

    def the_booking(self):
        return Appointment.objects.filter(pk=self.booked.pk)


def _move_to_cbd(w: World):
    w.the_booking().update(location=w.cbd, room=w.cbd_room)


def _raw_cancel(w: World):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE appointments_appointment SET status = 'cancelled', cancelled_at = now()"
            " WHERE id = %s",
            [w.booked.pk],
        )


# What changes, and which locations' versions move with it.
CHANGES: dict[str, tuple[Callable[[World], object], set[str]]] = {
    "a booking": (lambda w: w.appointment(start=at(TUESDAY, 14), status=Status.BOOKED), {"R"}),
    "a cancelled appointment written as history": (
        lambda w: w.appointment(start=at(TUESDAY, 14), status=Status.CANCELLED, cancelled_at=NOW),
        set(),
    ),
    "a move in time": (
        lambda w: w.the_booking().update(
            start=at(TUESDAY, 15), end=at(TUESDAY, 16), blocked_until=at(TUESDAY, 16)
        ),
        {"R"},
    ),
    "a move to another room": (lambda w: w.the_booking().update(room=w.rooms[1]), {"R"}),
    "a move to another location": (_move_to_cbd, {"R", "C"}),
    "a cancellation": (
        lambda w: w.the_booking().update(status=Status.CANCELLED, cancelled_at=NOW),
        {"R"},
    ),
    "a cancellation in raw SQL": (_raw_cancel, {"R"}),
    "a no-show": (lambda w: w.the_booking().update(status=Status.NO_SHOW), {"R"}),
    "a check-in (still occupying)": (
        lambda w: w.the_booking().update(status=Status.CHECKED_IN),
        set(),
    ),
    "a note for the front desk": (lambda w: w.the_booking().update(note="Parking"), set()),
    "a save that changes nothing placed": (lambda w: w.booked.save(), set()),
    "a booking deleted": (lambda w: w.the_booking().delete(), {"R"}),
    "a cancelled appointment deleted": (
        lambda w: Appointment.objects.filter(pk=w.cancelled.pk).delete(),
        set(),
    ),
    "a rota line added": (
        lambda w: WorkingHoursFactory(practitioner=w.mia, location=w.cbd, weekday=1),
        {"C"},
    ),
    "a rota line changed": (
        lambda w: WorkingHours.objects.filter(pk=w.line.pk).update(end_time=time(18)),
        {"R"},
    ),
    "a rota line moved to another location": (
        lambda w: WorkingHours.objects.filter(pk=w.line.pk).update(location=w.cbd),
        {"R", "C"},
    ),
    "a rota line removed": (lambda w: WorkingHours.objects.filter(pk=w.line.pk).delete(), {"R"}),
    "a break added": (
        lambda w: Break.objects.create(
            working_hours=w.line, start_time=time(12), end_time=time(13)
        ),
        {"R"},
    ),
    "extra hours": (
        lambda w: ExtraHours.objects.create(
            practitioner=w.mia, location=w.cbd, date=TUESDAY, start_time=time(18), end_time=time(20)
        ),
        {"C"},
    ),
    "a room added": (lambda w: RoomFactory(location=w.cbd), {"C"}),
    "a room closed": (
        lambda w: Room.objects.filter(pk=w.rooms[1].pk).update(is_active=False),
        {"R"},
    ),
    "a room moved": (
        lambda w: Room.objects.filter(pk=w.rooms[1].pk).update(location=w.cbd),
        {"R", "C"},
    ),
    "the location's zone": (
        lambda w: Location.objects.filter(pk=w.richmond.pk).update(time_zone="Australia/Perth"),
        {"R"},
    ),
    "leave": (
        lambda w: Leave.objects.create(
            practitioner=w.mia, start=at(TUESDAY, 9), end=at(TUESDAY, 17)
        ),
        {"R", "C"},
    ),
    "the booking rules": (
        lambda w: BookingRules.objects.update_or_create(id=1, defaults={"slot_grid_minutes": 30}),
        {"R", "C"},
    ),
    "a service": (
        lambda w: Service.objects.filter(pk=w.service.pk).update(duration_minutes=45),
        {"R", "C"},
    ),
    "a practitioner": (
        lambda w: Practitioner.objects.filter(pk=w.mia.pk).update(is_active=False),
        {"R", "C"},
    ),
    "a practitioner added": (lambda w: PractitionerFactory(), {"R", "C"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_moves_the_versions_of_the_locations_it_touches_and_no_other(
    change, location, treatment_rooms, myotherapist, assessment
):
    world = World(location, treatment_rooms, myotherapist, assessment)
    make, expected = CHANGES[change]
    names = {world.richmond.pk: "R", world.cbd.pk: "C"}
    before = versions()

    make(world)

    after = versions()
    assert {names[pk] for pk in after if after[pk] != before[pk]} == expected


def test_a_break_removed_with_its_rota_line_still_moves_the_version(location, myotherapist):
    line = WorkingHours.objects.filter(practitioner=myotherapist, weekday=1).get()
    lunch = Break.objects.create(working_hours=line, start_time=time(12), end_time=time(13))
    before = versions()

    Break.objects.filter(pk=lunch.pk).delete()
    between = versions()
    line.delete()  # the ORM removes its breaks first, in the same transaction

    assert between[location.pk] != before[location.pk]
    assert versions()[location.pk] != between[location.pk]


def test_a_location_comes_with_its_version_and_goes_with_it(db):
    richmond = LocationFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO practice_location (name, address, phone, time_zone, is_active)"
            " VALUES ('Raw', '', '', 'Australia/Melbourne', true) RETURNING id"
        )
        (raw,) = cursor.fetchone()

    assert set(versions()) == {richmond.pk, raw}

    richmond.delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM practice_location WHERE id = %s", [raw])

    assert versions() == {}


def test_the_version_moves_when_the_change_commits_and_becomes_its_transactions_id(
    location, treatment_rooms, myotherapist, assessment
):
    world = World(location, treatment_rooms, myotherapist, assessment)
    before = versions()

    with transaction.atomic():
        for hour in (12, 13, 14):
            world.appointment(start=at(TUESDAY, hour), status=Status.BOOKED)
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            (this_transaction,) = cursor.fetchone()
        seen_meanwhile = in_another_connection(versions)
        assert versions() == before  # nothing yet, not even for this transaction

    assert seen_meanwhile == before
    assert versions() == {location.pk: this_transaction, world.cbd.pk: before[world.cbd.pk]}


def test_a_booking_does_not_wait_for_another_open_transaction_at_its_location(
    location, treatment_rooms, myotherapist, second_myotherapist, assessment
):
    """Each transaction locks the version row only while it commits: had the triggers fired
    with each write, the second booking would wait on the first's lock until it ended."""
    world = World(location, treatment_rooms, myotherapist, assessment)
    first_written, second_done = threading.Event(), threading.Event()

    def first_booking():
        try:
            with transaction.atomic():
                world.appointment(start=at(TUESDAY, 13), status=Status.BOOKED)
                first_written.set()
                second_done.wait(timeout=30)
        finally:
            connection.close()

    first = threading.Thread(target=first_booking)
    first.start()
    try:
        assert first_written.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            AppointmentFactory(
                practitioner=second_myotherapist,
                service=assessment,
                location=location,
                room=treatment_rooms[1],
                start=at(TUESDAY, 13),
                status=Status.BOOKED,
            )
    finally:
        second_done.set()
        first.join(timeout=30)

    assert Appointment.objects.filter(start=at(TUESDAY, 13), status=Status.BOOKED).count() == 2
