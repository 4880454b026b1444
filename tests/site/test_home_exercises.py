"""A patient with a home programme signs in, reads their exercises with their instructions,
logs today's bird dog (a pain score out of range is named by its field, and nothing is
logged), then changes today's log."""

import pytest

from tests.factories import PatientFactory, UserFactory
from tests.fixtures.clinic import assess
from tests.site.pages import Site
from treatments.models import BodyRegion, Exercise, ExerciseCategory, HomeExerciseLog
from treatments.services import create_plan, prescribe_home_exercise

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct horse battery staple"  # the factory's


@pytest.fixture
def bird_dog(location, treatment_rooms, myotherapist, assessment):
    patient = PatientFactory(
        first_name="Hal", last_name="Home", user=UserFactory(email="hal@example.com")
    )
    assess(patient, location, treatment_rooms[0], myotherapist, assessment)
    plan = create_plan(patient=patient, practitioner=myotherapist, goals="Stay well", phases=[])
    return prescribe_home_exercise(
        plan=plan,
        # The library's seed is a data migration, which a live server's flushes empty.
        exercise=Exercise.objects.get_or_create(
            name="Bird dog",
            defaults={
                "instructions": "On hands and knees, reach one arm and the other leg long.",
                "category": ExerciseCategory.STABILITY,
                "body_region": BodyRegion.CORE,
                "default_sets": 3,
                "default_reps": 8,  # as the seed has it
            },
        )[0],
        by=myotherapist.user,
        times_per_week=3,
        notes="Keep your hips level",
    )


def test_a_patient_logs_todays_home_exercise(browser, site, artifacts_dir, bird_dog):
    page = Site(browser, site, artifacts_dir)

    page.open("#/exercises")
    page.heading("Please sign in")
    form = page.find("form.sign-in")
    page.type("Email", "hal@example.com", form)
    page.type("Password", PASSWORD, form)
    page.press("Sign in", form)

    page.heading("My exercises")
    item = page.find(f'[data-exercise="{bird_dog.pk}"]')
    assert "Bird dog" in item.text
    assert "3 sets of 8, 3 times a week" in item.text
    assert "hands and knees" in item.text  # the library's instructions
    assert "From your practitioner: Keep your hips level" in item.text
    page.text_appears("This week: 0 of 3 times done", ".adherence")

    page.type("Pain during it, 0 to 10 (optional)", "11", item)
    page.press("Log today", item)
    error = page.text_appears("less than or equal to 10", '[data-field="pain"] .field-error')
    assert error.is_displayed()
    assert not HomeExerciseLog.objects.exists()

    page.type("Pain during it, 0 to 10 (optional)", "2", item)
    page.screenshot(artifacts_dir / "home-exercises-1-log.png")
    page.press("Log today", item)
    page.text_appears("Done today: 3 sets of 8, pain 2/10.", ".done")
    log = HomeExerciseLog.objects.get()
    assert (log.sets_done, log.reps_done, log.pain) == (3, 8, 2)

    page.type("Sets done", "2", item)
    page.press("Change today's log", item)
    page.text_appears("Done today: 2 sets of 8, pain 2/10.", ".done")
    log.refresh_from_db()
    assert log.sets_done == 2
    assert HomeExerciseLog.objects.count() == 1
