"""A Manager (not a superuser) reads clinical records but writes none of them, through the
API (JWT and the session cookie) and the admin.

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

import pytest
from django.urls import reverse

from accounts.permissions import sync_role_group
from tests.factories import UserFactory
from tests.fixtures.clinic import TODAY
from tests.treatments.multi_step_helpers import (
    ANSWERS,
    CAUDA_EQUINA,
    INTAKES,
    ClinicStaff,
    admin_client,
    cookie_client,
    error_code,
    jwt_client,
    member_of,
)
from treatments.models import OutcomeMeasure, RedFlagClearance
from treatments.services import submit_intake

OUTCOMES = "/api/v1/outcome-measures/"


class TestAManagerReadsButDoesNotWriteClinicalRecords(ClinicStaff):
    @pytest.fixture
    def flagged(self, assessed_patient):
        return submit_intake(
            patient=assessed_patient,
            answers={**ANSWERS, "red_flags": CAUDA_EQUINA},
            entered_by=None,
        )

    @pytest.mark.parametrize("door", [jwt_client, cookie_client], ids=["jwt", "session cookie"])
    def test_a_manager_clears_no_red_flags_and_enters_no_records(
        self, door, manager, flagged, assessed_patient
    ):
        api = door(manager)

        reads = api.get(f"{INTAKES}{flagged.pk}/")
        clearance = api.post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "Looks fine to me."},
        )
        intake = api.post(INTAKES, {**ANSWERS, "patient": assessed_patient.pk})
        pain = api.post(OUTCOMES, {"patient": assessed_patient.pk, "kind": "pain", "value": 2})
        odi = api.post(
            OUTCOMES,
            {"patient": assessed_patient.pk, "kind": "odi", "odi_answers": [1] * 10},
            format="json",
        )

        assert reads.status_code == 200 and reads.json()["red_flags_open"] is True
        for refused in (clearance, intake, pain, odi):
            assert refused.status_code == 403, refused.json()
        assert not RedFlagClearance.objects.exists()
        assert not OutcomeMeasure.objects.exists()
        assert flagged.patient.intakes.count() == 1

    def test_nor_in_the_admin(self, manager, flagged):
        desk = admin_client(manager)

        page = desk.get(reverse("admin:treatments_intake_change", args=[flagged.pk]))
        clear = desk.post(
            reverse("admin:treatments_intake_clear", args=[flagged.pk]),
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert page.status_code == 200 and page.context["can_clear"] is False
        assert clear.status_code == 403
        assert not RedFlagClearance.objects.exists()

    def test_a_manager_who_is_also_a_practitioner_clears_only_their_own_patients(
        self, myotherapist, second_myotherapist, flagged
    ):
        """Managers see every patient; clearing still needs the care relationship."""
        boss = member_of("Practitioner", user=second_myotherapist.user)
        boss.groups.add(sync_role_group("Manager"))

        response = jwt_client(boss).post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert (response.status_code, error_code(response)) == (403, "not_treating_practitioner")
        assert not RedFlagClearance.objects.exists()

    def test_a_superuser_who_treats_nobody_clears_nothing(self, flagged):
        root = UserFactory(email="root@clinic.example", is_staff=True, is_superuser=True)

        response = jwt_client(root).post(
            f"{INTAKES}{flagged.pk}/clearance/",
            {"cleared_on": TODAY.isoformat(), "note": "fine"},
        )
        admin = admin_client(root).post(
            reverse("admin:treatments_intake_clear", args=[flagged.pk]),
            {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "fine"},
        )

        assert (response.status_code, error_code(response)) == (403, "not_treating_practitioner")
        assert admin.status_code == 403
        assert not RedFlagClearance.objects.exists()
