"""Due measures: the plan says how often each questionnaire is taken; the practitioner's
day shows who is due (the diary API and the day sheet)."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from appointments.services import book_appointment
from tests.fixtures.clinic import TODAY, at
from tests.treatments.api_helpers import ODI_ONE_UNANSWERED, PLANS
from treatments.models import MeasureKind, TreatmentPlan
from treatments.selectors import measure_schedules_among, measures_due_on
from treatments.services import record_odi, update_plan

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

THURSDAY = TODAY + timedelta(days=3)


def odi_taken(patient, days_before_today: int) -> None:
    record_odi(
        patient=patient,
        answers=ODI_ONE_UNANSWERED,
        by=None,
        recorded_at=at(TODAY - timedelta(days=days_before_today), 9),
    )


def due(patient, day) -> list[str]:
    return measures_due_on(measure_schedules_among([patient.pk]), patient.pk, day)


class TestTheSchedule:
    def test_set_with_the_plan_through_the_api(self, as_practitioner, assessed_patient):
        response = as_practitioner.post(
            PLANS,
            {"patient": assessed_patient.pk, "goals": "Run again", "odi_every_weeks": 4},
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["odi_every_weeks"], body["rmdq_every_weeks"]) == (4, None)

    def test_changed_through_the_api(self, as_practitioner, plan):
        response = as_practitioner.patch(
            f"{PLANS}{plan.pk}/", {"psfs_every_weeks": 2, "odi_every_weeks": None}
        )

        assert response.status_code == 200, response.json()
        plan.refresh_from_db()
        assert (plan.psfs_every_weeks, plan.odi_every_weeks) == (2, None)

    @pytest.mark.parametrize("weeks", [0, 53])
    def test_out_of_range_is_refused_by_the_api_and_the_database(
        self, as_practitioner, plan, weeks
    ):
        response = as_practitioner.patch(f"{PLANS}{plan.pk}/", {"odi_every_weeks": weeks})
        assert response.status_code == 400 and "odi_every_weeks" in response.json()["fields"]

        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentPlan.objects.filter(pk=plan.pk).update(odi_every_weeks=weeks)


class TestWhoIsDue:
    def test_never_taken_is_due(self, plan, assessed_patient):
        update_plan(plan=plan, changes={"odi_every_weeks": 4}, by=None)

        assert due(assessed_patient, TODAY) == [MeasureKind.ODI]

    def test_due_again_the_day_the_weeks_are_up(self, plan, assessed_patient):
        update_plan(plan=plan, changes={"odi_every_weeks": 4}, by=None)
        odi_taken(assessed_patient, 27)

        assert due(assessed_patient, TODAY) == []
        assert due(assessed_patient, TODAY + timedelta(days=1)) == [MeasureKind.ODI]

    def test_nothing_scheduled_nothing_due(self, plan, assessed_patient):
        assert due(assessed_patient, TODAY) == []

    def test_a_closed_plans_schedule_no_longer_counts(self, plan, assessed_patient):
        update_plan(plan=plan, changes={"odi_every_weeks": 4}, by=None)
        update_plan(plan=plan, changes={"status": "completed"}, by=None)

        assert due(assessed_patient, TODAY) == []


class TestOnThePractitionersDay:
    @pytest.fixture
    def appointment(self, plan, assessed_patient, myotherapy, myotherapist):
        update_plan(plan=plan, changes={"odi_every_weeks": 4}, by=None)
        odi_taken(assessed_patient, 26)  # due again on Thursday (28 days)
        return book_appointment(
            patient=assessed_patient,
            service=myotherapy,
            practitioner=myotherapist,
            start=at(THURSDAY, 10),
        )

    def test_the_diary_api_shows_it_to_clinicians_only(
        self, appointment, as_practitioner, as_reception
    ):
        url = f"/api/v1/appointments/{appointment.pk}/"

        assert as_practitioner.get(url).json()["measures_due"] == ["odi"]
        assert as_reception.get(url).json()["measures_due"] is None

    def test_the_day_sheet_shows_it(self, appointment, practitioner_staff, myotherapist):
        page = practitioner_staff.get(
            reverse("admin:appointments_appointment_sheet"),
            {"practitioner": myotherapist.pk, "date": THURSDAY.isoformat()},
        )

        assert page.status_code == 200
        assert "due: Oswestry Disability Index" in page.content.decode()
