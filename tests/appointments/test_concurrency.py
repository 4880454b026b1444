"""Many desks and phones booking at once: the database lets exactly the right number through.

Each booker runs in its own thread on its own database connection, and all of them are
released together by a barrier, so the bookings really race inside PostgreSQL.
"""

import threading
from collections import Counter
from collections.abc import Callable
from datetime import time, timedelta

import pytest
from django.db import connection

from appointments.courses import CourseRule, book_course
from appointments.models import Appointment, Course, Source, Status
from appointments.services import book_appointment, cancel_appointment, reschedule_appointment
from kernel.errors import DomainError
from practice.models import BookingRules
from tests.factories import PatientFactory, PractitionerFactory, RoomFactory
from tests.fixtures.clinic import TODAY, at, make_coach, work_every_day

pytestmark = pytest.mark.django_db(transaction=True)

TUESDAY = TODAY + timedelta(days=1)
BOOKERS = 20


def race(actions: list[Callable[[], object]]) -> Counter:
    """Run the actions at the same moment, one thread and connection each; count outcomes."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(action):
        try:
            barrier.wait()
            action()
            outcome = "booked"
        except DomainError as error:
            outcome = error.code
        except Exception as error:  # anything else is a bug the test must show
            outcome = f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return Counter(outcomes)


def occupying():
    return Appointment.objects.filter(status=Status.BOOKED)


def test_twenty_bookers_one_practitioner_one_time(assessment, myotherapist):
    patients = [PatientFactory() for _ in range(BOOKERS)]

    outcomes = race(
        [
            lambda p=p: book_appointment(
                patient=p, service=assessment, practitioner=myotherapist, start=at(TUESDAY, 10)
            )
            for p in patients
        ]
    )

    assert outcomes == Counter({"booked": 1, "slot_unavailable": BOOKERS - 1})
    assert occupying().count() == 1


def test_twenty_bookers_overlapping_but_different_times(assessment, myotherapist):
    # Starts two minutes apart: every pair of these 60-minute sessions overlaps.
    patients = [PatientFactory() for _ in range(BOOKERS)]

    outcomes = race(
        [
            lambda p=p, n=n: book_appointment(
                patient=p,
                service=assessment,
                practitioner=myotherapist,
                start=at(TUESDAY, 10) + timedelta(minutes=2 * n),
            )
            for n, p in enumerate(patients)
        ]
    )

    assert outcomes == Counter({"booked": 1, "slot_unavailable": BOOKERS - 1})
    assert occupying().count() == 1


def test_one_patient_with_twenty_practitioners_at_once(assessment, new_patient, location):
    practitioners = []
    for n in range(BOOKERS):
        RoomFactory(location=location, name=f"Room {n}")
        practitioner = PractitionerFactory()
        work_every_day(practitioner, location)
        practitioners.append(practitioner)

    outcomes = race(
        [
            lambda pr=pr: book_appointment(
                patient=new_patient, service=assessment, practitioner=pr, start=at(TUESDAY, 10)
            )
            for pr in practitioners
        ]
    )

    assert outcomes == Counter({"booked": 1, "slot_unavailable": BOOKERS - 1})
    assert occupying().filter(patient=new_patient).count() == 1


@pytest.mark.parametrize("bookers", [4, BOOKERS], ids=["capacity+1", "twenty"])
def test_the_gym_holds_exactly_its_capacity(nmpt, location, gym, bookers):
    coaches = [make_coach(location, gym, f"Coach{n}") for n in range(bookers)]
    patients = [PatientFactory() for _ in range(bookers)]
    # Capacity is the point here, not the new-patient pathway.
    rules = BookingRules.current()
    rules.new_patients_start_with_assessment = False
    rules.save()

    outcomes = race(
        [
            lambda c=c, p=p: book_appointment(
                patient=p, service=nmpt, practitioner=c, start=at(TUESDAY, 10)
            )
            for c, p in zip(coaches, patients, strict=True)
        ]
    )

    assert outcomes == Counter({"booked": gym.capacity, "slot_unavailable": bookers - 3})
    booked = occupying().filter(room=gym, start=at(TUESDAY, 10))
    assert sorted(booked.values_list("room_place", flat=True)) == [1, 2, 3]


def test_racing_reschedules_into_one_slot(assessment, myotherapist, location):
    appointments = [
        book_appointment(
            patient=PatientFactory(),
            service=assessment,
            practitioner=myotherapist,
            start=at(TUESDAY + timedelta(days=n), 10),
        )
        for n in range(1, 9)
    ]

    outcomes = race(
        [
            lambda a=a: reschedule_appointment(appointment=a, start=at(TUESDAY, 14))
            for a in appointments
        ]
    )

    assert outcomes == Counter({"booked": 1, "slot_unavailable": len(appointments) - 1})
    assert occupying().filter(start=at(TUESDAY, 14)).count() == 1
    assert occupying().count() == len(appointments)


def test_cancelling_the_assessment_and_booking_the_treatment_at_once(
    assessment, myotherapy, myotherapist, second_myotherapist
):
    """For each new patient, reception cancels the assessment while the patient books the
    treatment it makes bookable, at the same moment. One of the two wins; never both: no
    patient ends with a treatment and no assessment before it."""
    thursday, friday = TODAY + timedelta(days=3), TODAY + timedelta(days=4)
    pairs = []
    for n in range(8):  # one patient an hour, 09:00-16:00, so only the pairs race
        patient = PatientFactory()
        booked = book_appointment(
            patient=patient,
            service=assessment,
            practitioner=(myotherapist, second_myotherapist)[n % 2],
            start=at(thursday, 9 + n),
        )
        pairs.append((patient, booked, at(friday, 9 + n)))

    outcomes = race(
        [
            action
            for patient, booked, later in pairs
            for action in (
                lambda booked=booked: cancel_appointment(
                    appointment=booked, by=None, reason="Patient is unwell"
                ),
                lambda patient=patient, later=later: book_appointment(
                    patient=patient,
                    service=myotherapy,
                    practitioner=myotherapist,
                    start=later,
                    source=Source.ONLINE,
                ),
            )
        ]
    )

    assert outcomes["booked"] == len(pairs), outcomes
    assert set(outcomes) <= {
        "booked",
        "assessment_has_dependent_bookings",
        "new_patient_needs_assessment",
    }, outcomes
    for patient, _, _ in pairs:
        held = Appointment.objects.filter(patient=patient, status=Status.BOOKED)
        treatments = held.filter(service=myotherapy)
        assert not treatments.exists() or held.filter(service=assessment).exists()


def test_two_courses_meeting_in_one_visit_the_constraint_decides(
    assessment, myotherapist, location
):
    """Weekly from Tuesday and fortnightly from the Tuesday after, same practitioner and
    time: they meet in week 3. Booked at the same moment, all or nothing: one course gets
    every visit, the other is refused with the visit that met named; nothing of it stays."""
    first, second = PatientFactory(), PatientFactory()
    courses = {
        first: CourseRule(first_date=TUESDAY, at=time(10), visits=4),
        second: CourseRule(
            first_date=TUESDAY + timedelta(weeks=2), at=time(10), every_weeks=2, visits=2
        ),
    }
    answers: dict = {}

    def book(patient):
        try:
            answers[patient] = book_course(
                patient=patient,
                service=assessment,
                practitioner=myotherapist,
                location=location,
                rule=courses[patient],
            )
        except DomainError as refusal:
            answers[patient] = refusal
            raise

    outcomes = race([lambda p=p: book(p) for p in courses])

    assert outcomes == Counter({"booked": 1, "course_not_bookable": 1})
    [refused] = [answer for answer in answers.values() if isinstance(answer, DomainError)]
    assert [(visit["start"], visit["code"]) for visit in refused.extra["visits"]] == [
        (at(TUESDAY + timedelta(weeks=2), 10).isoformat(), "slot_unavailable")
    ]
    [booked] = [answer for answer in answers.values() if not isinstance(answer, DomainError)]
    assert occupying().count() == len(booked.booked)
    assert Course.objects.count() == 1


def test_two_courses_free_only_each_visit_goes_to_one(assessment, myotherapist, location):
    """The same three visits asked for by two patients at once, each booking the free ones:
    each visit is booked once, and each caller is answered visit by visit."""
    patients = (PatientFactory(), PatientFactory())
    rule = CourseRule(first_date=TUESDAY, at=time(10), visits=3)
    answers: dict = {}

    def book(patient):
        try:
            answers[patient] = book_course(
                patient=patient,
                service=assessment,
                practitioner=myotherapist,
                location=location,
                rule=rule,
                free_only=True,
            ).visits
        except DomainError as refusal:  # every visit went to the other: nothing_to_book
            answers[patient] = refusal
            raise

    race([lambda p=p: book(p) for p in patients])

    booked_by = {number: [] for number in (1, 2, 3)}
    for patient in patients:
        answer = answers[patient]
        if isinstance(answer, DomainError):
            assert answer.code == "nothing_to_book"
            refusals = answer.extra["visits"]
        else:
            refusals = [{"number": v.number, "code": v.refused.code} for v in answer if v.refused]
            for visit in answer:
                if visit.appointment:
                    booked_by[visit.number].append(patient)
        assert {refusal["code"] for refusal in refusals} <= {"slot_unavailable"}
        answered = {refusal["number"] for refusal in refusals}
        answered |= {n for n, who in booked_by.items() if patient in who}
        assert answered == {1, 2, 3}
    assert all(len(who) == 1 for who in booked_by.values())
    assert occupying().count() == 3
