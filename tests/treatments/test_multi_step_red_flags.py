"""Intake -> intake: a later intake never clears the red flags of an earlier one, through
the API (JWT and the session cookie) and the admin.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

import re

import pytest
from django.urls import reverse

from appointments.models import Status
from tests.factories import AppointmentFactory, UserFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.multi_step_helpers import (
    ANSWERS,
    APPOINTMENTS,
    CAUDA_EQUINA,
    INTAKES,
    TUESDAY,
    ClinicStaff,
    admin_client,
    cookie_client,
    jwt_client,
)
from treatments.models import RedFlag, RedFlagClearance

MY_INTAKE = "/api/v1/patients/me/intake/"


def flags_named(labels: list[str]) -> list[str]:
    """The red flags whose labels a page shows, in the order of `RedFlag`."""
    return [flag for flag, label in RedFlag.choices if label in labels]


class TestALaterIntakeNeverClearsRedFlags(ClinicStaff):
    @pytest.fixture
    def patient_user(self, assessed_patient):
        assessed_patient.user = UserFactory(email="ari@example.com")
        assessed_patient.save()
        return assessed_patient.user

    @pytest.fixture
    def visit(self, assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
        """Tomorrow's session with the practitioner who treats the patient."""
        return AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TUESDAY, 10),
            status=Status.BOOKED,
        )

    def shown_everywhere(self, practitioner, visit, location, myotherapy) -> dict:
        """What each place that shows red flags shows the treating practitioner."""
        patient = visit.patient
        api = jwt_client(practitioner).get(f"{APPOINTMENTS}{visit.pk}/").json()
        cookie = cookie_client(practitioner).get(f"{APPOINTMENTS}{visit.pk}/").json()
        desk = admin_client(practitioner)
        day = desk.get(
            reverse("admin:appointments_appointment_day"),
            {"date": TUESDAY.isoformat(), "location": location.pk, "service": myotherapy.pk},
        ).content.decode()
        page = desk.get(reverse("admin:patients_patient_change", args=[patient.pk]))
        intakes = jwt_client(practitioner).get(INTAKES, {"patient": patient.pk}).json()
        marker = re.search(r"red flags: ([^<]*)</span>", day)
        reasons = page.context["red_flags"]["reasons"] if page.context["red_flags"] else []
        return {
            "api": api["red_flags"] if api["red_flag"] else [],
            "cookie": cookie["red_flags"] if cookie["red_flag"] else [],
            "day view": flags_named(marker.group(1).split(", ") if marker else []),
            "patient page": flags_named(reasons),
            "open intakes": sorted(
                flag
                for intake in intakes["results"]
                if intake["red_flags_open"]
                for flag in intake["red_flags"]
            ),
        }

    def test_flags_stay_until_a_clearance_and_come_back_only_with_a_new_intake(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        # Given a patient who reports saddle numbness and bladder/bowel change,
        first = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": CAUDA_EQUINA})
        assert first.status_code == 201, first.json()
        both = {place: CAUDA_EQUINA for place in ("api", "cookie", "day view", "patient page")}
        assert self.shown_everywhere(practitioner, visit, location, myotherapy) == {
            **both,
            "open intakes": CAUDA_EQUINA,
        }

        # when they submit a second intake without red flags,
        second = patient_api.post(MY_INTAKE, {**ANSWERS, "pain_score": 3})
        assert second.status_code == 201, second.json()

        # then both flags are still shown everywhere: no clearance was recorded.
        assert self.shown_everywhere(practitioner, visit, location, myotherapy) == {
            **both,
            "open intakes": CAUDA_EQUINA,
        }
        assert not RedFlagClearance.objects.exists()

        # A clearance by the treating practitioner removes them,
        cleared = jwt_client(practitioner).post(
            f"{INTAKES}{first.json()['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP saw her: no cauda equina."},
        )
        assert cleared.status_code == 201, cleared.json()
        nothing = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert nothing == {place: [] for place in nothing}

        # and a third intake with a new flag shows only the new one.
        third = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]})
        assert third.status_code == 201, third.json()
        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: ["fever"] for place in nothing}

    def test_a_clearance_on_a_later_intake_covers_the_earlier_ones(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["saddle_numbness"]})
        later = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]}).json()

        cleared = jwt_client(practitioner).post(
            f"{INTAKES}{later['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP: both dealt with."},
        )

        assert cleared.status_code == 201, cleared.json()
        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: [] for place in shown}

    def test_an_earlier_clearance_leaves_a_later_intakes_flags_open(
        self, patient_user, practitioner, visit, location, myotherapy
    ):
        patient_api = jwt_client(patient_user)
        earlier = patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["saddle_numbness"]})
        patient_api.post(MY_INTAKE, {**ANSWERS, "red_flags": ["fever"]})

        jwt_client(practitioner).post(
            f"{INTAKES}{earlier.json()['id']}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "GP: saddle numbness resolved."},
        )

        shown = self.shown_everywhere(practitioner, visit, location, myotherapy)
        assert shown == {place: ["fever"] for place in shown}
