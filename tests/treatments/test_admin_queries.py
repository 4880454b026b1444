"""Clinical records in the admin read a fixed number of queries, however many rows they show."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.admin_helpers import INTAKE, PHASES, SQUAT, AdminRecords, session_of, url
from treatments.models import Phase
from treatments.services import (
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)

pytestmark = pytest.mark.usefixtures("frozen_now")


class TestQueryCounts(AdminRecords):
    """Lists and pages read a fixed number of queries, however many rows they show."""

    @staticmethod
    def queries_of(client, address) -> int:
        client.get(address)  # warm caches (content types, sessions) first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response.status_code == 200
        return len(queries)

    @pytest.fixture
    def patients(self, myotherapist, myotherapy, location, room):
        made = []

        def add(count):
            for _ in range(count):
                n = len(made)
                patient = PatientFactory(last_name=f"Patient{n:03d}")
                session = session_of(
                    patient,
                    myotherapist,
                    myotherapy,
                    location,
                    room,
                    days_ago=1 + n // 6,
                    hour=9 + n % 6,
                )
                intake = submit_intake(
                    patient=patient, answers={**INTAKE, "red_flags": ["fever"]}, entered_by=None
                )
                if n % 2:
                    clear_red_flags(
                        intake=intake, cleared_by=myotherapist.user, cleared_on=TODAY, note="ok"
                    )
                plan = create_plan(
                    patient=patient, practitioner=myotherapist, goals="Run", phases=PHASES
                )
                move_plan_to_phase(plan=plan, phase=Phase.RELEASE, by=None)
                note = start_note(appointment=session, author=myotherapist)
                update_draft(
                    note=note, author=myotherapist, changes={"pain_score": 4}, exercises=[SQUAT]
                )
                note = sign_note(note=note, author=myotherapist)
                add_addendum(note=note, author=myotherapist, text="Seen again")
                record_odi(patient=patient, answers=[2] * 10, by=myotherapist.user)
                made.append(patient)

        return add

    @pytest.mark.parametrize(
        "model", ["intake", "treatmentplan", "treatmentnote", "outcomemeasure"]
    )
    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff"])
    def test_the_lists(self, request, who, model, patients):
        client = request.getfixturevalue(who)
        patients(3)
        with_3 = self.queries_of(client, url(model, "changelist"))
        patients(27)
        with_30 = self.queries_of(client, url(model, "changelist"))

        assert with_30 == with_3

    def test_a_notes_page(self, practitioner_staff, draft, myotherapist):
        def add_exercises(count):
            rows = [SQUAT] * (draft.exercises.count() + count)
            update_draft(note=draft, author=myotherapist, changes={}, exercises=rows)

        add_exercises(2)
        with_3 = self.queries_of(practitioner_staff, url("treatmentnote", "change", draft.pk))
        add_exercises(27)
        with_30 = self.queries_of(practitioner_staff, url("treatmentnote", "change", draft.pk))

        assert with_30 == with_3

    def test_a_signed_notes_page_with_its_addenda(self, practitioner_staff, signed, myotherapist):
        def add_addenda(count):
            for n in range(count):
                add_addendum(note=signed, author=myotherapist, text=f"Addendum {n}")

        add_addenda(3)
        with_3 = self.queries_of(practitioner_staff, url("treatmentnote", "change", signed.pk))
        add_addenda(27)
        with_30 = self.queries_of(practitioner_staff, url("treatmentnote", "change", signed.pk))

        assert with_30 == with_3

    @pytest.mark.parametrize("who", ["practitioner_staff", "manager_staff", "reception_staff"])
    def test_the_patients_page_with_its_chart(self, request, who, assessed_patient, myotherapist):
        client = request.getfixturevalue(who)
        page = reverse("admin:patients_patient_change", args=[assessed_patient.pk])
        create_plan(patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=PHASES)

        def add_scores(count):
            for n in range(count):
                when = at(TODAY - timedelta(days=1 + n), 9)
                record_pain(patient=assessed_patient, score=n % 11, by=None, recorded_at=when)
                record_odi(
                    patient=assessed_patient, answers=[n % 6] * 10, by=None, recorded_at=when
                )

        add_scores(3)
        with_3 = self.queries_of(client, page)
        add_scores(27)
        with_30 = self.queries_of(client, page)

        assert with_30 == with_3
