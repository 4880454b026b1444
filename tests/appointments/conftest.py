"""A one-location clinic in Melbourne, frozen at Monday 22 March 2027, 08:00 local."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from practice.models import Discipline, RoomKind
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    ServiceFactory,
    WorkingHoursFactory,
)

MELBOURNE = ZoneInfo("Australia/Melbourne")
TODAY = date(2027, 3, 22)  # a Monday
NOW = datetime.combine(TODAY, time(8), tzinfo=MELBOURNE)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Melbourne wall-clock time as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=MELBOURNE)


def work_every_day(practitioner, location, start=time(9), end=time(17)):
    return [
        WorkingHoursFactory(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=start,
            end_time=end,
        )
        for weekday in range(7)
    ]


@pytest.fixture(autouse=True)
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def location(db):
    return LocationFactory(name="Richmond")


@pytest.fixture
def treatment_rooms(location):
    return [RoomFactory(location=location, name=f"Treatment {n}") for n in (1, 2)]


@pytest.fixture
def gym(location):
    return RoomFactory(location=location, name="Gym", kind=RoomKind.GYM, capacity=3)


@pytest.fixture
def assessment(db):
    return ServiceFactory(
        name="Initial assessment",
        duration_minutes=60,
        is_assessment=True,
        disciplines=[Discipline.MYOTHERAPY, Discipline.SCIATICA, Discipline.NMPT],
    )


@pytest.fixture
def myotherapy(db):
    return ServiceFactory(name="Myotherapy 45", duration_minutes=45, buffer_after_minutes=15)


@pytest.fixture
def nmpt(db):
    return ServiceFactory(
        name="NMPT session",
        duration_minutes=45,
        room_kind=RoomKind.GYM,
        disciplines=[Discipline.NMPT],
    )


@pytest.fixture
def myotherapist(location, treatment_rooms):
    practitioner = PractitionerFactory(user__first_name="Mia", user__last_name="Myo")
    work_every_day(practitioner, location)
    return practitioner


@pytest.fixture
def second_myotherapist(location, treatment_rooms):
    practitioner = PractitionerFactory(user__first_name="Max", user__last_name="Myo")
    work_every_day(practitioner, location)
    return practitioner


def make_coach(location, gym, name: str):
    coach = PractitionerFactory(
        user__first_name=name, user__last_name="Coach", disciplines=[Discipline.NMPT]
    )
    work_every_day(coach, location)
    return coach


@pytest.fixture
def coach(location, gym):
    return make_coach(location, gym, "Cal")


def assess(patient, location, room, practitioner, assessment):
    """Give `patient` a completed assessment last month, so they are no longer new."""
    start = at(TODAY - timedelta(days=30), 10)
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=assessment,
        location=location,
        room=room,
        start=start,
    )


@pytest.fixture
def assessed_patient(location, treatment_rooms, myotherapist, assessment):
    patient = PatientFactory(first_name="Ari", last_name="Assessed")
    assess(patient, location, treatment_rooms[0], myotherapist, assessment)
    return patient


@pytest.fixture
def new_patient(db):
    return PatientFactory(first_name="Nia", last_name="New")
