"""The home programme in the admin: the library kept by clinicians, a prescription entered
on its form through the service (the library's dose when left empty), kept as prescribed,
taken off the programme by an action; adherence beside the chart on the patient's page."""

import pytest
from django.urls import reverse

from audit.models import Action, AuditEntry
from tests.fixtures.clinic import TODAY
from tests.treatments.admin_helpers import PHASES, messages_of, url
from treatments.models import Exercise, HomeExercise
from treatments.services import create_plan, log_home_exercise, prescribe_home_exercise

pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.fixture
def plan(assessed_patient, myotherapist):
    return create_plan(
        patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES
    )


@pytest.fixture
def bird_dog(db):
    return Exercise.objects.get(name="Bird dog")


def test_a_practitioner_prescribes_on_the_form_with_the_librarys_dose(
    practitioner_staff, plan, bird_dog, myotherapist
):
    form = practitioner_staff.get(f"{url('homeexercise', 'add')}?patient={plan.patient_id}")
    assert form.status_code == 200
    assert form.context["adminform"].form.initial["plan"] == plan.pk

    response = practitioner_staff.post(
        url("homeexercise", "add"),
        {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": "3", "notes": "Slowly"},
    )

    prescribed = HomeExercise.objects.get()
    assert response.status_code == 302, messages_of(response)
    assert (prescribed.sets, prescribed.reps, prescribed.started_on) == (3, 8, TODAY)
    assert prescribed.prescribed_by == myotherapist
    assert AuditEntry.objects.filter(
        action=Action.CREATE, object_type="treatments.homeexercise"
    ).exists()


def test_a_refusal_on_the_form_is_a_message_never_a_500(
    practitioner_staff, plan, bird_dog, myotherapist
):
    prescribe_home_exercise(plan=plan, exercise=bird_dog, by=myotherapist.user, times_per_week=3)

    response = practitioner_staff.post(
        url("homeexercise", "add"),
        {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": "3"},
        follow=True,
    )

    assert response.status_code == 200
    assert any("already in the programme" in m for m in messages_of(response))
    assert HomeExercise.objects.count() == 1


def test_a_manager_reads_programmes_but_prescribes_none(
    manager_staff, plan, bird_dog, myotherapist
):
    prescribed = prescribe_home_exercise(
        plan=plan, exercise=bird_dog, by=myotherapist.user, times_per_week=3
    )
    assert manager_staff.get(url("homeexercise", "changelist")).status_code == 200
    assert manager_staff.get(url("homeexercise", "change", prescribed.pk)).status_code == 200
    assert manager_staff.get(url("homeexercise", "add")).status_code == 403


def test_the_stop_action_takes_an_exercise_off_the_programme(
    practitioner_staff, plan, bird_dog, myotherapist
):
    prescribed = prescribe_home_exercise(
        plan=plan, exercise=bird_dog, by=myotherapist.user, times_per_week=3
    )

    practitioner_staff.post(
        url("homeexercise", "changelist"),
        {"action": "stop_selected", "_selected_action": [str(prescribed.pk)]},
    )

    prescribed.refresh_from_db()
    assert prescribed.stopped_on == TODAY


def test_clinicians_keep_the_library(practitioner_staff, manager_staff, reception_staff, bird_dog):
    response = practitioner_staff.post(
        url("exercise", "change", bird_dog.pk),
        {
            "name": "Bird dog",
            "instructions": bird_dog.instructions,
            "category": bird_dog.category,
            "body_region": bird_dog.body_region,
            "default_sets": "2",
            "default_reps": "10",
            "default_load_kg": "",
            "active": "",
        },
    )

    bird_dog.refresh_from_db()
    assert response.status_code == 302
    assert (bird_dog.default_sets, bird_dog.active) == (2, False)
    assert manager_staff.get(url("exercise", "changelist")).status_code == 200
    assert reception_staff.get(url("exercise", "changelist")).status_code == 403


def test_the_patients_page_shows_adherence_beside_the_chart(
    practitioner_staff, plan, bird_dog, myotherapist, assessed_patient
):
    prescribed = prescribe_home_exercise(
        plan=plan,
        exercise=bird_dog,
        by=myotherapist.user,
        times_per_week=3,
        started_on=TODAY,
    )
    log_home_exercise(
        patient=assessed_patient,
        home_exercise=prescribed,
        done_on=TODAY,
        sets_done=3,
        reps_done=8,
    )

    page = practitioner_staff.get(
        reverse("admin:patients_patient_change", args=[assessed_patient.pk])
    ).content.decode()

    assert "Home programme: times done of the times prescribed" in page
    assert "1 of 3" in page
    assert "Prescribe a home exercise" in page
