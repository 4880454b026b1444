import pytest

from appointments.services import book_appointment
from patients.models import Patient
from tests.factories import PatientFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

ME = "/api/v1/patients/me/"
PATIENTS = "/api/v1/patients/"


class TestMe:
    def test_a_patient_reads_their_profile(self, as_patient, assessed_patient):
        body = as_patient.get(ME).json()

        assert body["id"] == assessed_patient.pk
        assert body["first_name"] == "Ari"
        assert body["phone"] == "+61412345678"

    def test_a_patient_updates_contact_details_and_consents(self, as_patient, assessed_patient):
        response = as_patient.patch(
            ME,
            {"phone": "0498 765 432", "consent_sms": True, "preferred_channel": "sms"},
        )

        assessed_patient.refresh_from_db()
        assert response.status_code == 200, response.json()
        assert str(assessed_patient.mobile) == "+61498765432"
        assert assessed_patient.consent_sms is True
        assert assessed_patient.consents_updated_at is not None

    def test_sms_consent_needs_a_mobile(self, as_patient, assessed_patient):
        response = as_patient.patch(ME, {"phone": "", "consent_sms": True})

        assessed_patient.refresh_from_db()
        assert response.status_code == 400
        assert "consent_sms" in response.json()["fields"]
        assert str(assessed_patient.mobile) == "+61412345678"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"phone": "call me"}, "phone"),
            ({"preferred_channel": "pigeon"}, "preferred_channel"),
            ({"date_of_birth": "3000-01-01"}, "date_of_birth"),
            ({"consent_email": "maybe"}, "consent_email"),
        ],
    )
    def test_bad_input_names_the_field(self, as_patient, changes, field):
        response = as_patient.patch(ME, changes)

        assert response.status_code == 400
        assert field in response.json()["fields"]

    @pytest.mark.parametrize(
        ("field", "value"),
        [("first_name", "Sam"), ("last_name", "Other"), ("date_of_birth", "1970-02-03")],
    )
    def test_a_patient_cannot_change_who_they_are_online(
        self, as_patient, assessed_patient, field, value
    ):
        """Name and date of birth identify a patient: changed online, a patient could take
        another's (same name and birth date) and be matched to their record."""
        before = Patient.objects.filter(pk=assessed_patient.pk).values().get()

        response = as_patient.patch(ME, {field: value, "consent_email": True})

        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "identity_locked"
        assert list(response.json()["fields"]) == [field]
        assert Patient.objects.filter(pk=assessed_patient.pk).values().get() == before

    def test_nor_take_on_another_patients_exact_identity(
        self, as_patient, assessed_patient, other_patient
    ):
        response = as_patient.patch(
            ME,
            {
                "first_name": other_patient.first_name,
                "last_name": other_patient.last_name,
                "date_of_birth": other_patient.date_of_birth.isoformat(),
            },
        )

        assessed_patient.refresh_from_db()
        assert response.status_code == 400
        differing = {
            name
            for name in ("first_name", "last_name", "date_of_birth")
            if getattr(other_patient, name) != getattr(assessed_patient, name)
        }
        assert set(response.json()["fields"]) == differing
        assert assessed_patient.first_name == "Ari"

    def test_the_whole_form_sent_back_unchanged_is_fine(self, as_patient, assessed_patient):
        mine = as_patient.get(ME).json()

        response = as_patient.patch(
            ME,
            {
                "first_name": mine["first_name"],
                "last_name": mine["last_name"],
                "date_of_birth": mine["date_of_birth"],
                "preferred_channel": "sms",
            },
        )

        assert response.status_code == 200, response.json()
        assert response.json()["preferred_channel"] == "sms"

    def test_read_only_fields_cannot_be_written(self, as_patient, assessed_patient):
        as_patient.patch(ME, {"id": 999, "email": "evil@example.com", "is_active": False})

        assessed_patient.refresh_from_db()
        assert assessed_patient.pk != 999
        assert assessed_patient.email != "evil@example.com"
        assert assessed_patient.is_active

    def test_staff_have_no_me(self, as_reception):
        response = as_reception.get(ME)

        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"

    def test_anonymous_is_401(self, anonymous):
        assert anonymous.get(ME).status_code == 401


class TestStaffSearch:
    @pytest.fixture
    def people(self, db):
        return [
            PatientFactory(first_name="Sam", last_name="Lee", mobile="+61411111111"),
            PatientFactory(first_name="Samira", last_name="Khan", email="samira@example.com"),
            PatientFactory(first_name="Tom", last_name="Ng", date_of_birth="1970-02-03"),
        ]

    def names(self, client, q):
        return {p["first_name"] for p in client.get(PATIENTS, {"q": q}).json()["results"]}

    def test_reception_finds_by_name_email_phone_and_birth_date(self, as_reception, people):
        assert self.names(as_reception, "sam") == {"Sam", "Samira"}
        assert self.names(as_reception, "sam lee") == {"Sam"}
        assert self.names(as_reception, "samira@example") == {"Samira"}
        assert self.names(as_reception, "0411111111") == {"Sam"}
        assert self.names(as_reception, "1970-02-03") == {"Tom"}

    def test_a_practitioner_sees_only_patients_they_treat(
        self, as_practitioner, myotherapist, people, assessment
    ):
        book_appointment(
            patient=people[2],
            service=assessment,
            practitioner=myotherapist,
            start=at(TODAY, 15),
        )

        listed = as_practitioner.get(PATIENTS).json()["results"]

        assert [p["first_name"] for p in listed] == ["Tom"]
        assert as_practitioner.get(f"{PATIENTS}{people[0].pk}/").status_code == 404

    def test_patients_cannot_search(self, as_patient, people):
        assert as_patient.get(PATIENTS).status_code == 403
        assert as_patient.get(f"{PATIENTS}{people[0].pk}/").status_code == 403

    def test_reception_reads_one_patient(self, as_reception, people):
        body = as_reception.get(f"{PATIENTS}{people[1].pk}/").json()

        assert body["email"] == "samira@example.com"
        assert Patient.objects.get(pk=body["id"]).last_name == "Khan"
