"""The clinical services act at the moment they are given (`now=`), not the clock's: they
judge by it and stamp it on what they write, the rows' own created/updated times included,
so a caller can write the clinic's history through them (the demo clinic does). The clock
here is frozen at TODAY 08:00."""

from datetime import timedelta

import pytest

from appointments.models import Status
from kernel.errors import DomainError
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from treatments.models import MeasureKind, OutcomeMeasure, Phase
from treatments.services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

LAST_MONTH = TODAY - timedelta(days=30)
LAST_WEEK = TODAY - timedelta(days=7)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


def session_at(start, status, patient, practitioner, service, location, room):
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=start,
        status=status,
    )


@pytest.fixture
def last_weeks_session(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    return session_at(
        at(LAST_WEEK, 10),
        Status.COMPLETED,
        assessed_patient,
        myotherapist,
        myotherapy,
        location,
        treatment_rooms[0],
    )


def test_a_note_written_and_signed_last_week(last_weeks_session, myotherapist):
    note = start_note(appointment=last_weeks_session, author=myotherapist, now=at(LAST_WEEK, 11))
    note = update_draft(
        note=note,
        author=myotherapist,
        changes={"subjective": "Better.", "pain_score": 3},
        now=at(LAST_WEEK, 11, 10),
    )
    signed = sign_note(note=note, author=myotherapist, now=at(LAST_WEEK, 12))
    amended = add_addendum(
        note=signed, author=myotherapist, text="GP letter received.", now=at(LAST_WEEK, 15)
    )

    signed.refresh_from_db()
    assert signed.created_at == at(LAST_WEEK, 11)
    assert signed.signed_at == signed.updated_at == at(LAST_WEEK, 12)
    assert amended.created_at == at(LAST_WEEK, 15)
    pain = OutcomeMeasure.objects.get(appointment=last_weeks_session, kind=MeasureKind.PAIN)
    assert pain.recorded_at == last_weeks_session.start


def test_a_booked_session_carries_a_note_once_it_has_begun_by_the_given_moment(
    assessed_patient, myotherapist, myotherapy, location, treatment_rooms
):
    later_today = session_at(
        at(TODAY, 10),
        Status.BOOKED,
        assessed_patient,
        myotherapist,
        myotherapy,
        location,
        treatment_rooms[0],
    )

    with pytest.raises(DomainError) as refused:
        start_note(appointment=later_today, author=myotherapist)
    note = start_note(appointment=later_today, author=myotherapist, now=at(TODAY, 10, 5))

    assert refused.value.code == "not_a_session"
    assert note.created_at == at(TODAY, 10, 5)


def test_an_intake_and_its_clearance_are_stamped_at_their_moments(assessed_patient, myotherapist):
    intake = submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Lower back pain",
            "pain_score": 6,
            "duration": "chronic",
            "activity": "sedentary",
            "red_flags": ["fever"],
        },
        entered_by=None,
        now=at(LAST_MONTH, 9),
    )
    clearance = clear_red_flags(
        intake=intake,
        cleared_by=myotherapist.user,
        cleared_on=LAST_MONTH,
        note="Seen by GP.",
        now=at(LAST_MONTH, 17),
    )

    assert intake.submitted_at == at(LAST_MONTH, 9)
    assert clearance.recorded_at == at(LAST_MONTH, 17)


def test_a_plans_phases_start_and_end_on_the_days_of_their_moments(assessed_patient, myotherapist):
    plan = create_plan(
        patient=assessed_patient,
        practitioner=myotherapist,
        goals="Pain-free running",
        phases=[
            {"phase": phase, "planned_sessions": 4, "sessions_per_week": 1}
            for phase in (Phase.ASSESS, Phase.RELEASE, Phase.MAINTAIN)
        ],
        now=at(LAST_MONTH, 11),
    )
    move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None, now=at(LAST_WEEK, 11))
    plan = move_plan_to_phase(plan=plan, phase=Phase.MAINTAIN, by=None, now=at(TODAY, 7))

    phases = {phase.phase: phase for phase in plan.phases.all()}
    assert plan.created_at == at(LAST_MONTH, 11)
    assert plan.updated_at == plan.maintenance_started_at == at(TODAY, 7)
    assert (phases[Phase.ASSESS].started_on, phases[Phase.ASSESS].ended_on) == (
        LAST_MONTH,
        LAST_WEEK,
    )
    assert (phases[Phase.RELEASE].started_on, phases[Phase.RELEASE].ended_on) == (
        LAST_WEEK,
        TODAY,
    )


def test_a_pain_score_taken_now_is_recorded_at_the_given_moment(assessed_patient):
    score = record_pain(patient=assessed_patient, score=4, by=None, now=at(LAST_WEEK, 10))

    assert score.recorded_at == at(LAST_WEEK, 10)


def test_an_addendum_is_labelled_with_the_clinics_date(last_weeks_session, myotherapist):
    """An addendum written at 08:30 in Melbourne is 21:30 of the day before in UTC: its
    label (the admin's, the note's page) gives the clinic's date."""
    note = start_note(appointment=last_weeks_session, author=myotherapist, now=at(LAST_WEEK, 11))
    signed = sign_note(note=note, author=myotherapist, now=at(LAST_WEEK, 12))

    addendum = add_addendum(
        note=signed, author=myotherapist, text="Seen by GP.", now=at(TODAY, 8, 30)
    )

    addendum.refresh_from_db()  # as the admin reads it: in UTC
    assert str(addendum) == f"Addendum by {myotherapist} ({TODAY:%Y-%m-%d})"
