"""How long records are kept — seven years after the last entry, and until a patient seen as
a child turns 25, whichever is later — and the managers' review of the records past it,
which lists and never deletes. The clock is frozen at 22 March 2027."""

import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from audit.models import Action, AuditEntry
from patients.models import Patient
from records.retention import records_past_retention, retention_end, retention_until
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import TODAY
from treatments.services import record_pain

pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.mark.parametrize(
    ("born", "last_entry", "until"),
    [
        # An adult: seven years after the last entry.
        (date(1980, 4, 2), date(2018, 5, 1), date(2025, 5, 1)),
        (date(1980, 4, 2), date(2020, 6, 1), date(2027, 6, 1)),
        # A child, seen last at 7: until 25, later than seven years on.
        (date(2005, 8, 10), date(2012, 3, 1), date(2030, 8, 10)),
        # Seen at 10 and never again: 25th birthday in 2025.
        (date(2000, 1, 15), date(2010, 9, 1), date(2025, 1, 15)),
        # Seen as a child and again as an adult: seven years after the adult visit.
        (date(2005, 8, 10), date(2026, 2, 1), date(2033, 2, 1)),
        # Born on 29 February: the 25th birthday falls on 1 March, never a day early.
        (date(2004, 2, 29), date(2010, 1, 1), date(2029, 3, 1)),
    ],
)
def test_worked_examples(born, last_entry, until):
    assert retention_end(date_of_birth=born, last_entry=last_entry) == until


def seen_on(patient, day: date):
    return AppointmentFactory(
        patient=patient, start=datetime(day.year, day.month, day.day, 0, tzinfo=UTC)
    )


@pytest.fixture
def clinic_records(db):
    """Patients whose last entries lie years back, by name."""
    people = {
        "adult_2018": PatientFactory(
            first_name="Ada", last_name="Eighteen", date_of_birth=date(1980, 4, 2)
        ),
        "adult_2020": PatientFactory(
            first_name="Bo", last_name="Twenty", date_of_birth=date(1980, 4, 2)
        ),
        "minor_2005": PatientFactory(
            first_name="Cy", last_name="Minor", date_of_birth=date(2005, 8, 10)
        ),
        "minor_2000": PatientFactory(
            first_name="Di", last_name="Grown", date_of_birth=date(2000, 1, 15)
        ),
        "scored_lately": PatientFactory(
            first_name="Ed", last_name="Scored", date_of_birth=date(1970, 1, 1)
        ),
    }
    seen_on(people["adult_2018"], date(2018, 5, 1))
    seen_on(people["adult_2020"], date(2020, 6, 1))
    seen_on(people["minor_2005"], date(2012, 3, 1))
    seen_on(people["minor_2000"], date(2012, 3, 1))
    seen_on(people["scored_lately"], date(2015, 1, 1))
    record_pain(
        patient=people["scored_lately"],
        score=2,
        by=None,
        recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    return people


def test_the_last_entry_is_the_latest_of_the_whole_record(clinic_records):
    scored = clinic_records["scored_lately"]

    assert retention_until(scored) == date(2031, 1, 1)  # the 2024 score, not the 2015 visit


def test_records_past_retention_today(clinic_records):
    past = records_past_retention(TODAY)

    assert [row.patient.last_name for row in past] == ["Grown", "Eighteen"]
    assert [(row.last_entry, row.retention_until) for row in past] == [
        (date(2012, 3, 1), date(2025, 1, 15)),
        (date(2018, 5, 1), date(2025, 5, 1)),
    ]


def test_a_record_without_entries_counts_from_registration(db):
    someone = PatientFactory(date_of_birth=date(1960, 1, 1))
    Patient.objects.filter(pk=someone.pk).update(created_at=datetime(2016, 2, 1, tzinfo=UTC))

    assert [row.patient for row in records_past_retention(TODAY)] == [someone]


class TestTheCommand:
    def test_a_manager_gets_a_table_and_nothing_is_deleted(self, clinic_records, manager, capsys):
        call_command("records_past_retention", "--as", manager.email)

        table = capsys.readouterr().out
        assert "Di Grown" in table and "Ada Eighteen" in table
        assert "Bo Twenty" not in table and "Cy Minor" not in table
        assert Patient.objects.count() == len(clinic_records)

    def test_as_json(self, clinic_records, manager, capsys):
        call_command("records_past_retention", "--as", manager.email, "--json")

        rows = json.loads(capsys.readouterr().out)
        assert rows[0] == {
            "patient": clinic_records["minor_2000"].pk,
            "name": "Di Grown",
            "date_of_birth": "2000-01-15",
            "last_entry": "2012-03-01",
            "retention_until": "2025-01-15",
            "archived": False,
        }

    def test_the_review_is_audited(self, clinic_records, manager):
        call_command("records_past_retention", "--as", manager.email, "--json")

        reviews = AuditEntry.objects.filter(action=Action.RETENTION_REVIEW, actor=manager)
        summary = reviews.get(patient=None)
        assert summary.detail == {"as_of": "2027-03-22", "listed": 2}
        assert sorted(reviews.exclude(patient=None).values_list("patient_id", flat=True)) == sorted(
            [clinic_records["adult_2018"].pk, clinic_records["minor_2000"].pk]
        )

    @pytest.mark.parametrize("who", ["reception", "nobody@clinic.example"])
    def test_only_managers(self, clinic_records, reception, who):
        email = reception.email if who == "reception" else who

        with pytest.raises(CommandError, match="not a manager"):
            call_command("records_past_retention", "--as", email)

        assert not AuditEntry.objects.filter(action=Action.RETENTION_REVIEW).exists()
