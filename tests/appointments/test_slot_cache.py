"""The availability cache (appointments.slot_cache): a kept answer is the answer computed
afresh, at any moment; every change that can alter free slots makes the next answer fresh;
a hit reads the versions and nothing else; a Redis that does not answer costs the cache,
never the answer.

Transactional tests: the diary versions move when a change commits, and inside a
transaction the cache is not used at all.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from appointments import slot_cache
from appointments.models import Appointment, Status
from appointments.services import (
    book_appointment,
    cancel_appointment,
    mark_no_show,
    reschedule_appointment,
)
from appointments.slot_cache import Question, available_slots_json
from practice.models import (
    BookingRules,
    Break,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    Service,
    WorkingHours,
)
from tests.appointments.availability_helpers import uncached_body
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
)
from tests.fixtures.clinic import NOW, TODAY, at, work_every_day

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = TODAY + timedelta(days=1)
LAST = TODAY + timedelta(days=13)  # Melbourne's clocks go back on Sunday 4 April
# What a miss reads: the versions, the service, the rules, the rota with its breaks and
# extra hours (one query), the rooms, and booked time with leave. What a hit reads: the
# versions.
QUERIES_PER_MISS = 6
QUERIES_PER_HIT = 1


@dataclass
class Clinic:
    richmond: Location
    perth: Location
    perth_room: Room
    mia: Practitioner
    max: Practitioner
    pia: Practitioner
    service: Service
    booking: Appointment


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clinic(location, treatment_rooms, myotherapist, second_myotherapist, assessment):
    """Richmond (Melbourne) with Mia and Max, Perth (no daylight saving) with Pia; a lunch
    break, a day of leave and a booking."""
    BookingRules.current()
    perth = LocationFactory(name="Perth", time_zone="Australia/Perth")
    perth_room = RoomFactory(location=perth, name="Perth 1")
    pia = PractitionerFactory(user__first_name="Pia")
    work_every_day(pia, perth)
    Break.objects.create(
        working_hours=WorkingHours.objects.get(practitioner=myotherapist, weekday=2),
        start_time=time(12),
        end_time=time(13),
    )
    Leave.objects.create(
        practitioner=second_myotherapist,
        start=at(TODAY + timedelta(days=3), 0),
        end=at(TODAY + timedelta(days=4), 0),
    )
    booking = AppointmentFactory(
        practitioner=myotherapist,
        service=assessment,
        location=location,
        room=treatment_rooms[0],
        start=at(TUESDAY, 10),
        status=Status.BOOKED,
    )
    return Clinic(
        location, perth, perth_room, myotherapist, second_myotherapist, pia, assessment, booking
    )


def ask(clinic: Clinic, *, online: bool = True, now: datetime = NOW, **where: int) -> bytes:
    """The cached answer for the fortnight; on a miss the service is read as the view reads
    it, after the versions."""

    def read() -> Question:
        return Question(Service.objects.get(pk=clinic.service.pk), TODAY, LAST, **where)

    asked = (clinic.service.pk, TODAY, LAST, sorted(where.items()))
    return available_slots_json(asked, read, online=online, now=now)


def afresh(clinic: Clinic, *, online: bool = True, now: datetime = NOW, **where: int) -> bytes:
    service = Service.objects.get(pk=clinic.service.pk)
    return uncached_body(service, TODAY, LAST, online=online, now=now, **where)


def queries_of(clinic: Clinic, *, online: bool = True) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        ask(clinic, online=online)
    return [query["sql"] for query in captured.captured_queries]


WHERE: dict[str, Callable[[Clinic], dict]] = {
    "the whole clinic": lambda c: {},
    "Richmond": lambda c: {"location": c.richmond.pk},
    "Perth": lambda c: {"location": c.perth.pk},
    "Mia": lambda c: {"practitioner": c.mia.pk},
}


@pytest.mark.parametrize("online", [True, False], ids=["patients", "staff"])
@pytest.mark.parametrize("where", WHERE)
def test_a_kept_answer_is_the_answer_computed_afresh(clinic, where, online):
    question = WHERE[where](clinic)

    computed = ask(clinic, online=online, **question)
    kept = ask(clinic, online=online, **question)

    assert computed == kept == afresh(clinic, online=online, **question)
    assert b'"start":"' in kept


def test_a_hit_reads_the_versions_and_nothing_else(clinic):
    miss = queries_of(clinic)
    hit = queries_of(clinic)

    assert len(miss) == QUERIES_PER_MISS
    assert len(hit) == QUERIES_PER_HIT
    assert "practice_diaryversion" in hit[0]


def test_staff_and_patients_are_answered_apart(clinic):
    staff = ask(clinic, online=False)

    assert len(queries_of(clinic, online=True)) == QUERIES_PER_MISS
    assert ask(clinic, online=True) != staff


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    minutes=st.integers(min_value=-2 * 24 * 60, max_value=16 * 24 * 60),
    online=st.booleans(),
    where=st.sampled_from(list(WHERE)),
)
def test_a_kept_answer_is_right_at_any_later_or_earlier_moment(clinic, minutes, online, where):
    """The entry holds every start of the dates; the bounds of now, the lead time and the
    horizon are applied as it is read, across the change of Melbourne's clocks too."""
    question = WHERE[where](clinic)
    ask(clinic, online=online, **question)  # kept as of NOW (or earlier)
    now = NOW + timedelta(minutes=minutes)

    assert ask(clinic, online=online, now=now, **question) == afresh(
        clinic, online=online, now=now, **question
    )


def test_the_horizon_is_applied_as_the_answer_is_read(clinic):
    BookingRules.objects.update(online_horizon_days=2)
    kept = ask(clinic)  # computed and kept

    assert {slot[:10] for slot in _starts(kept)} == {str(TODAY), str(TUESDAY)}
    assert ask(clinic, now=NOW + timedelta(days=1)) == afresh(clinic, now=NOW + timedelta(days=1))


def _starts(body: bytes) -> list[str]:
    return [slot["start"] for slot in json.loads(body)["slots"]]


# --- every change makes the next answer fresh ------------------------------------------


def _book(c: Clinic):
    book_appointment(
        patient=PatientFactory(),
        service=c.service,
        practitioner=c.max,
        start=at(TUESDAY, 14),
    )


def _move(c: Clinic):
    reschedule_appointment(appointment=c.booking, start=at(TUESDAY, 15))


def _cancel(c: Clinic):
    cancel_appointment(appointment=c.booking, by=None, reason="Unwell")


# Ten minutes into the booking: the no-show frees the rest of it.
NO_SHOW_AT = at(TUESDAY, 10, 10)


def _no_show(c: Clinic):
    mark_no_show(appointment=c.booking, by=None, now=NO_SHOW_AT)


def _rota_line(c: Clinic):
    WorkingHours.objects.create(
        practitioner=c.max, location=c.richmond, weekday=1, start_time=time(17), end_time=time(20)
    )


def _break(c: Clinic):
    Break.objects.create(
        working_hours=WorkingHours.objects.get(practitioner=c.max, weekday=1),
        start_time=time(12),
        end_time=time(13),
    )


def _extra_hours(c: Clinic):
    ExtraHours.objects.create(
        practitioner=c.pia, location=c.perth, date=TUESDAY, start_time=time(18), end_time=time(20)
    )


def _leave(c: Clinic):
    Leave.objects.create(practitioner=c.pia, start=at(TUESDAY, 0), end=at(TUESDAY, 23))


def _rules(c: Clinic):
    rules = BookingRules.current()
    rules.slot_grid_minutes = 30
    rules.save()


def _service(c: Clinic):
    Service.objects.filter(pk=c.service.pk).update(buffer_after_minutes=30)


def _room(c: Clinic):
    Room.objects.filter(pk=c.perth_room.pk).update(is_active=False)


def _practitioner(c: Clinic):
    Practitioner.objects.filter(pk=c.mia.pk).update(is_active=False)


def _location(c: Clinic):
    Location.objects.filter(pk=c.perth.pk).update(time_zone="Australia/Adelaide")


CHANGES: dict[str, tuple[Callable[[Clinic], object], datetime, bool]] = {
    # name: (the change, the moment it is asked at, online)
    "a booking": (_book, NOW, True),
    "a move": (_move, NOW, True),
    "a cancellation": (_cancel, NOW, True),
    "a no-show": (_no_show, NO_SHOW_AT, False),
    "a rota line": (_rota_line, NOW, True),
    "a break": (_break, NOW, True),
    "extra hours": (_extra_hours, NOW, True),
    "leave": (_leave, NOW, True),
    "the booking rules": (_rules, NOW, True),
    "a service": (_service, NOW, True),
    "a room": (_room, NOW, True),
    "a practitioner": (_practitioner, NOW, True),
    "a location": (_location, NOW, True),
}


@pytest.mark.parametrize("change", CHANGES)
def test_after_each_change_the_next_answer_is_fresh(clinic, change):
    make, now, online = CHANGES[change]
    before = ask(clinic, now=now, online=online)

    make(clinic)
    after = ask(clinic, now=now, online=online)

    assert after != before
    assert after == afresh(clinic, now=now, online=online)


def test_inside_a_transaction_the_answer_sees_the_transactions_own_changes(clinic):
    ask(clinic)  # kept

    with transaction.atomic():
        Appointment.objects.filter(pk=clinic.booking.pk).update(
            status=Status.CANCELLED, cancelled_at=NOW
        )
        inside = ask(clinic)
        assert inside == afresh(clinic)
        transaction.set_rollback(True)

    assert f'"start":"{TUESDAY}T10:00:00+11:00","end"'.encode() in inside


# --- the cache's own limits --------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The cache pointed at a port where nothing listens."""
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }


def test_with_redis_down_the_answer_is_computed(clinic, redis_down):
    first = ask(clinic)
    second = queries_of(clinic)

    assert first == afresh(clinic)
    assert len(second) == QUERIES_PER_MISS


def test_an_answer_too_large_to_keep_is_computed_each_time(clinic, monkeypatch):
    monkeypatch.setattr(slot_cache, "MAX_ENTRY_BYTES", 1000)

    assert ask(clinic) == afresh(clinic)
    assert len(queries_of(clinic)) == QUERIES_PER_MISS


def test_entries_expire(clinic):
    ask(clinic)
    client = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])

    keys = list(client.scan_iter(match=f"*{slot_cache.KEY_PREFIX}:*"))

    assert len(keys) == 1
    assert 0 < client.ttl(keys[0]) <= slot_cache.ENTRY_SECONDS
