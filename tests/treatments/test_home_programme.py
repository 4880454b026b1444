"""The home programme: exercises of the clinic's library prescribed as part of a plan, kept
as prescribed (a change is a new version), the patient's logs of them (once per exercise per
day, corrected for a few days), and weekly adherence."""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from audit.models import Action, AuditEntry
from kernel.errors import DomainError
from tests.fixtures.clinic import NOW, TODAY
from treatments.models import Exercise, HomeExercise, HomeExerciseLog, PlanStatus
from treatments.selectors import adherence_by_week, adherence_of, programme_of
from treatments.services import (
    LOG_EDITABLE_DAYS,
    correct_home_exercise_log,
    log_home_exercise,
    prescribe_home_exercise,
    revise_home_exercise,
    update_plan,
)

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

PRESCRIBED = "/api/v1/home-exercises/"
LIBRARY = "/api/v1/exercises/"
MY_PROGRAMME = "/api/v1/patients/me/programme/"
MY_LOGS = "/api/v1/patients/me/exercise-logs/"
LOGS = "/api/v1/home-exercise-logs/"


@pytest.fixture
def bird_dog(db):
    return Exercise.objects.get(name="Bird dog")  # the library's seed (0014)


@pytest.fixture
def bridge(db):
    return Exercise.objects.get(name="Glute bridge")


@pytest.fixture
def prescribed(plan, bird_dog, myotherapist):
    return prescribe_home_exercise(
        plan=plan, exercise=bird_dog, by=myotherapist.user, times_per_week=3
    )


class TestLibrary:
    def test_the_clinic_starts_with_a_library_of_back_pain_exercises(self, db):
        names = set(Exercise.objects.values_list("name", flat=True))
        assert {"Bird dog", "Glute bridge", "Dead bug", "McGill curl-up", "Side plank"} <= names
        assert {"Sciatic nerve glide", "Hip hinge with dowel", "Goblet squat"} <= names

    def test_clinicians_read_the_library_and_retired_exercises_only_on_asking(
        self, as_practitioner, bird_dog
    ):
        Exercise.objects.filter(pk=bird_dog.pk).update(active=False)

        offered = as_practitioner.get(LIBRARY).json()["results"]
        everything = as_practitioner.get(LIBRARY, {"all": "true"}).json()["results"]

        assert "Bird dog" not in [row["name"] for row in offered]
        assert "Bird dog" in [row["name"] for row in everything]

    def test_patients_and_reception_do_not_read_it(self, as_patient, as_reception):
        assert as_patient.get(LIBRARY).status_code == 403
        assert as_reception.get(LIBRARY).status_code == 403


class TestPrescribing:
    def test_a_practitioner_who_treats_the_patient_prescribes_with_the_librarys_defaults(
        self, as_practitioner, plan, bird_dog, myotherapist
    ):
        response = as_practitioner.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": 4}
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["exercise"]["name"] == "Bird dog"
        assert (body["sets"], body["reps"], body["load_kg"]) == (3, 8, None)
        assert body["times_per_week"] == 4
        assert body["started_on"] == TODAY.isoformat() and body["stopped_on"] is None
        assert body["prescribed_by"]["id"] == myotherapist.pk
        assert AuditEntry.objects.filter(
            action=Action.CREATE, object_type="treatments.homeexercise", object_id=str(body["id"])
        ).exists()

    def test_a_practitioner_without_a_care_relationship_is_refused(
        self, as_other_practitioner, plan, bird_dog, second_myotherapist
    ):
        response = as_other_practitioner.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": 3}
        )
        # The plan is not among those they may see: named as the field at fault.
        assert response.status_code == 400
        assert "plan" in response.json()["fields"]
        with pytest.raises(DomainError) as refusal:
            prescribe_home_exercise(
                plan=plan, exercise=bird_dog, by=second_myotherapist.user, times_per_week=3
            )
        assert refusal.value.code == "not_treating_practitioner"
        assert refusal.value.status_code == 403

    def test_a_manager_reads_programmes_but_prescribes_none(
        self, as_manager, prescribed, plan, bird_dog
    ):
        assert as_manager.get(PRESCRIBED).json()["count"] == 1
        response = as_manager.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": 3}
        )
        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"times_per_week": 8}, "times_per_week"),
            ({"times_per_week": 0}, "times_per_week"),
            ({"sets": 0, "times_per_week": 3}, "sets"),
            ({"load_kg": -1, "times_per_week": 3}, "load_kg"),
            ({"times_per_week": 3, "started_on": "2027-03-01"}, "started_on"),
            ({"times_per_week": 3, "stopped_on": "2027-04-01"}, "stopped_on"),
        ],
    )
    def test_an_invalid_prescription_is_a_400_naming_the_field(
        self, as_practitioner, plan, bird_dog, body, field
    ):
        response = as_practitioner.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, **body}
        )
        assert response.status_code == 400
        assert field in response.json()["fields"]

    def test_a_retired_exercise_is_not_prescribed(self, as_practitioner, plan, bird_dog):
        Exercise.objects.filter(pk=bird_dog.pk).update(active=False)
        response = as_practitioner.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": 3}
        )
        assert response.status_code == 400
        assert "exercise" in response.json()["fields"]

    def test_an_exercise_is_in_a_programme_once(self, as_practitioner, prescribed, plan, bird_dog):
        response = as_practitioner.post(
            PRESCRIBED, {"plan": plan.pk, "exercise": bird_dog.pk, "times_per_week": 3}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "already_prescribed"

    def test_a_change_of_dose_is_a_new_version_from_today(
        self, as_practitioner, prescribed, myotherapist
    ):
        response = as_practitioner.post(
            f"{PRESCRIBED}{prescribed.pk}/revise/", {"reps": 12, "times_per_week": 5}
        )
        a_week_on = revise_home_exercise(
            home_exercise=HomeExercise.objects.get(stopped_on=None),
            changes={"sets": 2},
            by=myotherapist.user,
            now=NOW + timedelta(days=7),
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["sets"], body["reps"], body["times_per_week"]) == (3, 12, 5)
        assert body["started_on"] == TODAY.isoformat()
        prescribed.refresh_from_db()
        assert prescribed.stopped_on == TODAY
        assert prescribed.reps == 8  # kept as prescribed
        assert (a_week_on.sets, a_week_on.reps, a_week_on.times_per_week) == (2, 12, 5)
        assert a_week_on.started_on == TODAY + timedelta(days=7)
        assert AuditEntry.objects.filter(
            action=Action.CREATE, object_type="treatments.homeexercise", object_id=str(body["id"])
        ).exists()
        assert AuditEntry.objects.filter(
            action=Action.UPDATE,
            object_type="treatments.homeexercise",
            object_id=str(prescribed.pk),
            detail__fields=["stopped_on"],
        ).exists()

    def test_a_stopped_prescription_is_final(self, as_practitioner, prescribed):
        assert as_practitioner.post(f"{PRESCRIBED}{prescribed.pk}/stop/").status_code == 200
        again = as_practitioner.post(f"{PRESCRIBED}{prescribed.pk}/revise/", {"reps": 5})
        assert again.status_code == 409
        assert again.json()["code"] == "home_exercise_stopped"
        assert AuditEntry.objects.filter(
            action=Action.UPDATE, object_id=str(prescribed.pk), detail__fields=["stopped_on"]
        ).exists()

    def test_the_database_keeps_a_prescription_as_written(self, prescribed):
        with pytest.raises(IntegrityError), transaction.atomic():
            HomeExercise.objects.filter(pk=prescribed.pk).update(reps=99)
        with pytest.raises(IntegrityError), transaction.atomic():
            HomeExercise.objects.filter(pk=prescribed.pk).delete()

    def test_closing_the_plan_ends_its_programme(self, prescribed, plan, manager):
        update_plan(plan=plan, changes={"status": PlanStatus.COMPLETED}, by=manager)
        prescribed.refresh_from_db()
        assert prescribed.stopped_on == TODAY
        assert not programme_of(plan.patient).exists()

    def test_a_practitioner_reads_only_their_patients_programmes(
        self, as_other_practitioner, prescribed
    ):
        assert as_other_practitioner.get(PRESCRIBED).json()["count"] == 0
        assert as_other_practitioner.get(f"{PRESCRIBED}{prescribed.pk}/").status_code == 404


class TestPatientLogs:
    def test_the_patient_sees_their_programme(self, as_patient, prescribed):
        response = as_patient.get(MY_PROGRAMME)

        assert response.status_code == 200
        body = response.json()
        assert [row["exercise"]["name"] for row in body["exercises"]] == ["Bird dog"]
        assert body["exercises"][0]["exercise"]["instructions"]
        assert body["log_editable_days"] == LOG_EDITABLE_DAYS
        assert AuditEntry.objects.filter(
            action=Action.READ, object_type="treatments.homeexercise"
        ).exists()

    def test_another_patient_sees_none_of_it(self, as_other_patient, as_patient, prescribed):
        assert as_other_patient.get(MY_PROGRAMME).json()["exercises"] == []
        log = as_patient.post(
            MY_LOGS, {"home_exercise": prescribed.pk, "sets_done": 3, "reps_done": 8}
        ).json()
        assert as_other_patient.get(f"{MY_LOGS}{log['id']}/").status_code == 404
        assert as_other_patient.patch(f"{MY_LOGS}{log['id']}/", {"pain": 1}).status_code == 404
        refused = as_other_patient.post(
            MY_LOGS, {"home_exercise": prescribed.pk, "sets_done": 3, "reps_done": 8}
        )
        assert refused.status_code == 400
        assert "home_exercise" in refused.json()["fields"]

    def test_the_patient_logs_today_once_per_exercise(self, as_patient, prescribed):
        body = {"home_exercise": prescribed.pk, "sets_done": 3, "reps_done": 8, "pain": 2}

        first = as_patient.post(MY_LOGS, body)
        second = as_patient.post(MY_LOGS, body)

        assert first.status_code == 201, first.json()
        assert first.json()["done_on"] == TODAY.isoformat()
        assert first.json()["exercise"]["name"] == "Bird dog"
        assert second.status_code == 409
        assert second.json()["code"] == "already_logged"
        assert as_patient.get(MY_LOGS).json()["count"] == 1

    def test_the_database_logs_an_exercise_once_a_day_across_versions(
        self, prescribed, assessed_patient, myotherapist
    ):
        log_home_exercise(
            patient=assessed_patient,
            home_exercise=prescribed,
            done_on=TODAY,
            sets_done=3,
            reps_done=8,
        )
        revised = revise_home_exercise(
            home_exercise=prescribed, changes={"reps": 10}, by=myotherapist.user
        )
        with pytest.raises(DomainError) as refusal:
            log_home_exercise(
                patient=assessed_patient,
                home_exercise=revised,
                done_on=TODAY,
                sets_done=3,
                reps_done=10,
            )
        assert refusal.value.code == "already_logged"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"pain": 11}, "pain"),
            ({"sets_done": -1}, "sets_done"),
            ({"done_on": (TODAY + timedelta(days=1)).isoformat()}, "done_on"),
            ({"done_on": (TODAY - timedelta(days=LOG_EDITABLE_DAYS + 1)).isoformat()}, "done_on"),
            ({"patient": 1}, "patient"),
        ],
    )
    def test_an_invalid_log_is_a_400_naming_the_field(self, as_patient, prescribed, body, field):
        response = as_patient.post(
            MY_LOGS, {"home_exercise": prescribed.pk, "sets_done": 3, "reps_done": 8, **body}
        )
        assert response.status_code == 400
        assert field in response.json()["fields"]

    def test_a_day_before_the_exercise_was_prescribed_is_refused(self, as_patient, prescribed):
        response = as_patient.post(
            MY_LOGS,
            {
                "home_exercise": prescribed.pk,
                "done_on": (TODAY - timedelta(days=1)).isoformat(),
                "sets_done": 3,
                "reps_done": 8,
            },
        )
        assert response.status_code == 400
        assert "done_on" in response.json()["fields"]

    def test_a_log_is_corrected_for_a_few_days_only(self, as_patient, prescribed):
        log = as_patient.post(
            MY_LOGS, {"home_exercise": prescribed.pk, "sets_done": 2, "reps_done": 8}
        ).json()

        corrected = as_patient.patch(f"{MY_LOGS}{log['id']}/", {"sets_done": 3, "note": " ok "})
        not_its_day = as_patient.patch(f"{MY_LOGS}{log['id']}/", {"done_on": "2027-03-20"})
        entry = HomeExerciseLog.objects.get(pk=log["id"])
        correct_home_exercise_log(
            log=entry, changes={"pain": 1}, now=NOW + timedelta(days=LOG_EDITABLE_DAYS)
        )
        with pytest.raises(DomainError) as refusal:
            correct_home_exercise_log(
                log=entry, changes={"pain": 2}, now=NOW + timedelta(days=LOG_EDITABLE_DAYS + 1)
            )

        assert corrected.status_code == 200, corrected.json()
        assert (corrected.json()["sets_done"], corrected.json()["note"]) == (3, "ok")
        assert not_its_day.status_code == 400 and "done_on" in not_its_day.json()["fields"]
        assert refusal.value.code == "log_closed"
        assert AuditEntry.objects.filter(
            action=Action.UPDATE, object_type="treatments.homeexerciselog"
        ).exists()

    def test_clinicians_read_the_logs_of_their_patients_only(
        self, as_patient, as_practitioner, as_other_practitioner, as_reception, prescribed
    ):
        as_patient.post(MY_LOGS, {"home_exercise": prescribed.pk, "sets_done": 3, "reps_done": 8})

        assert as_practitioner.get(LOGS).json()["count"] == 1
        assert as_other_practitioner.get(LOGS).json()["count"] == 0
        assert as_reception.get(LOGS).status_code == 403
        assert as_patient.get(LOGS).status_code == 403


class TestAdherence:
    def test_a_week_counts_the_times_done_against_the_times_prescribed(self):
        monday = date(2027, 3, 1)
        item = HomeExercise(pk=1, times_per_week=3, started_on=monday, stopped_on=None)

        weeks = adherence_by_week(
            [item],
            Counter({(1, monday): 2, (1, monday + timedelta(days=7)): 5}),
            today=monday + timedelta(days=13),
        )

        assert [(w.week_of, w.prescribed, w.done, w.percent) for w in weeks] == [
            (monday, 3, 2, 67),
            (monday + timedelta(days=7), 3, 3, 100),  # extra sessions do not count twice
        ]

    def test_a_part_week_is_prorated(self):
        wednesday = date(2027, 3, 3)  # five days of its week left
        item = HomeExercise(pk=1, times_per_week=7, started_on=wednesday, stopped_on=None)

        (week,) = adherence_by_week([item], Counter(), today=wednesday)

        assert (week.week_of, week.prescribed, week.done) == (date(2027, 3, 1), 5, 0)

    def test_a_revision_counts_each_version_for_its_days(self):
        monday = date(2027, 3, 1)
        first = HomeExercise(
            pk=1, times_per_week=7, started_on=monday, stopped_on=monday + timedelta(days=2)
        )
        second = HomeExercise(
            pk=2, times_per_week=7, started_on=monday + timedelta(days=2), stopped_on=None
        )

        (week,) = adherence_by_week(
            [first, second],
            Counter({(1, monday): 2, (2, monday): 1}),
            today=monday + timedelta(days=6),
        )

        assert (week.prescribed, week.done) == (7, 3)

    def test_the_patients_progress_shows_adherence(
        self, as_practitioner, prescribed, assessed_patient
    ):
        log_home_exercise(
            patient=assessed_patient,
            home_exercise=prescribed,
            done_on=TODAY,
            sets_done=3,
            reps_done=8,
        )

        body = as_practitioner.get(f"/api/v1/patients/{assessed_patient.pk}/progress/").json()

        assert body["adherence"] == [
            {"week_of": TODAY.isoformat(), "prescribed": 3, "done": 1, "percent": 33}
        ]
        assert adherence_of(HomeExercise.objects.all(), TODAY)[0].done == 1
