"""`/api/v1/waitlist/` through real tokens: who joins, changes, leaves and reads what."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from tests.factories import PatientFactory, UserFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import TODAY
from waitlist.models import EndReason, WaitlistEntry
from waitlist.services import Wish, join_waitlist

WAITLIST = "/api/v1/waitlist/"
IN_A_MONTH = (TODAY + timedelta(days=30)).isoformat()


def entry_url(entry) -> str:
    return f"{WAITLIST}{entry.pk}/"


def wish(service, **extra):
    return {"service": service.pk, "latest_date": IN_A_MONTH, **extra}


def put_on_waitlist(patient, service, by, **extra) -> WaitlistEntry:
    return join_waitlist(
        patient=patient,
        service=service,
        by=by,
        wish=Wish(latest_date=TODAY + timedelta(days=30), **extra),
    )


def refused_fields(response) -> list[str]:
    assert response.status_code == 400, response.json()
    return list(response.json()["fields"])


@pytest.fixture
def patients_entry(patient_user, myotherapy, reception):
    return put_on_waitlist(patient_user.patient, myotherapy, reception, note="Prefers mornings")


@pytest.fixture
def other_patients_entry(other_patient_user, myotherapy):
    return put_on_waitlist(other_patient_user.patient, myotherapy, other_patient_user)


class TestJoining:
    def test_a_patient_joins_for_themselves(self, as_patient, patient_user, myotherapy):
        response = as_patient.post(WAITLIST, wish(myotherapy, weekdays=[0, 2]), format="json")

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["patient"]["id"] == patient_user.patient.pk
        assert body["weekdays"] == [0, 2]
        assert body["practitioners"] == [] and body["urgent"] is False
        assert body["note"] is None  # the desk's, not the patient's

    def test_a_patient_joins_before_confirming_their_email(self, myotherapy):
        unverified = UserFactory(email="new@example.com", email_verified_at=None)
        PatientFactory(user=unverified)

        response = client_for(unverified).post(WAITLIST, wish(myotherapy), format="json")

        assert response.status_code == 201, response.json()

    @pytest.mark.parametrize("staff_only", [{"urgent": True}, {"note": "x"}, {"patient": 1}])
    def test_a_patient_sends_no_staff_field(self, as_patient, myotherapy, staff_only):
        response = as_patient.post(WAITLIST, wish(myotherapy, **staff_only), format="json")

        assert refused_fields(response) == list(staff_only)
        assert not WaitlistEntry.objects.exists()

    def test_reception_puts_a_patient_on_it_as_urgent(
        self, as_reception, assessed_patient, myotherapy, myotherapist
    ):
        response = as_reception.post(
            WAITLIST,
            wish(
                myotherapy,
                patient=assessed_patient.pk,
                urgent=True,
                note="Sciatica flaring",
                practitioners=[myotherapist.pk],
            ),
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["urgent"] is True and body["note"] == "Sciatica flaring"
        assert body["practitioners"] == [myotherapist.pk]

    def test_staff_name_the_patient(self, as_reception, myotherapy):
        assert refused_fields(as_reception.post(WAITLIST, wish(myotherapy), format="json")) == [
            "patient"
        ]

    def test_a_practitioner_does_not_put_patients_on_it(
        self, as_practitioner, assessed_patient, myotherapy
    ):
        response = as_practitioner.post(
            WAITLIST, wish(myotherapy, patient=assessed_patient.pk), format="json"
        )

        assert response.status_code == 403

    def test_joining_twice_for_one_service_is_a_conflict(
        self, as_patient, patients_entry, myotherapy
    ):
        response = as_patient.post(WAITLIST, wish(myotherapy), format="json")

        assert response.status_code == 409
        assert response.json()["code"] == "already_on_waitlist"

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"weekdays": [7]}, "weekdays"),
            ({"weekdays": [1, 1]}, "weekdays"),
            ({"weekdays": "monday"}, "weekdays"),
            ({"earliest_time": "12:00", "latest_time": "09:00"}, "latest_time"),
            ({"earliest_time": "noon"}, "earliest_time"),
            ({"latest_date": (TODAY - timedelta(days=1)).isoformat()}, "latest_date"),
            ({"earliest_date": (TODAY + timedelta(days=31)).isoformat()}, "latest_date"),
            ({"practitioners": [10**9]}, "practitioners"),
        ],
    )
    def test_a_wish_that_cannot_be_met_is_a_400_naming_the_field(
        self, as_patient, myotherapy, extra, field
    ):
        response = as_patient.post(WAITLIST, wish(myotherapy, **extra), format="json")

        assert refused_fields(response) == [field]

    def test_sooner_than_the_patients_own_booking(
        self, as_patient, upcoming_myotherapy, myotherapy
    ):
        response = as_patient.post(
            WAITLIST, wish(myotherapy, sooner_than=upcoming_myotherapy.pk), format="json"
        )

        assert response.status_code == 201, response.json()
        assert response.json()["sooner_than"] == upcoming_myotherapy.pk

    def test_sooner_than_another_patients_booking_reads_as_no_such_booking(
        self, as_other_patient, upcoming_myotherapy, myotherapy
    ):
        response = as_other_patient.post(
            WAITLIST, wish(myotherapy, sooner_than=upcoming_myotherapy.pk), format="json"
        )

        assert refused_fields(response) == ["sooner_than"]
        assert "does not exist" in response.json()["fields"]["sooner_than"][0]


class TestChangingAndLeaving:
    def test_a_patient_changes_their_entry(self, as_patient, patients_entry):
        response = as_patient.patch(
            entry_url(patients_entry), {"weekdays": [4], "latest_time": "12:00"}, format="json"
        )

        assert response.status_code == 200, response.json()
        patients_entry.refresh_from_db()
        assert patients_entry.weekdays == [4]
        assert str(patients_entry.latest_time) == "12:00:00"

    def test_a_patient_does_not_mark_their_entry_urgent(self, as_patient, patients_entry):
        response = as_patient.patch(entry_url(patients_entry), {"urgent": True}, format="json")

        assert refused_fields(response) == ["urgent"]

    def test_the_service_of_an_entry_is_not_changed(self, as_reception, patients_entry, nmpt):
        response = as_reception.patch(entry_url(patients_entry), {"service": nmpt.pk})

        assert refused_fields(response) == ["service"]

    def test_reception_marks_an_entry_urgent(self, as_reception, patients_entry):
        response = as_reception.patch(entry_url(patients_entry), {"urgent": True}, format="json")

        assert response.status_code == 200
        assert response.json()["urgent"] is True

    def test_a_patient_leaves_the_waitlist(self, as_patient, patients_entry):
        response = as_patient.delete(entry_url(patients_entry))

        assert response.status_code == 204
        patients_entry.refresh_from_db()
        assert patients_entry.end_reason == EndReason.LEFT
        assert as_patient.delete(entry_url(patients_entry)).status_code == 409

    def test_reception_removes_an_entry(self, as_reception, patients_entry):
        assert as_reception.delete(entry_url(patients_entry)).status_code == 204

        patients_entry.refresh_from_db()
        assert patients_entry.end_reason == EndReason.REMOVED_BY_STAFF

    def test_another_patients_entry_is_not_found(self, as_patient, other_patients_entry):
        url = entry_url(other_patients_entry)

        assert as_patient.get(url).status_code == 404
        assert as_patient.patch(url, {"weekdays": [1]}, format="json").status_code == 404
        assert as_patient.delete(url).status_code == 404
        other_patients_entry.refresh_from_db()
        assert other_patients_entry.ended_at is None


class TestWhoSeesWhat:
    def ids(self, client) -> set[int]:
        response = client.get(WAITLIST)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    def test_a_patient_sees_their_own(self, as_patient, patients_entry, other_patients_entry):
        assert self.ids(as_patient) == {patients_entry.pk}

    def test_an_entry_names_its_service_even_one_not_booked_online(
        self, as_patient, patients_entry
    ):
        service = patients_entry.service
        service.bookable_online = False
        service.save()

        (row,) = as_patient.get(WAITLIST).json()["results"]

        assert (row["service"], row["service_name"]) == (service.pk, service.name)

    def test_reception_and_managers_see_every_one(
        self, as_reception, as_manager, patients_entry, other_patients_entry
    ):
        everyone = {patients_entry.pk, other_patients_entry.pk}
        assert self.ids(as_reception) == self.ids(as_manager) == everyone
        assert as_reception.get(entry_url(patients_entry)).json()["note"] == "Prefers mornings"

    def test_a_practitioner_sees_those_in_their_care_naming_them_or_anyone(
        self,
        as_practitioner,
        patient_user,
        other_patient_user,
        myotherapist,
        second_myotherapist,
        myotherapy,
        nmpt,
        coach,
        reception,
    ):
        # The assessed patient was assessed by the myotherapist: in their care.
        any_practitioner = put_on_waitlist(patient_user.patient, myotherapy, reception)
        someone_else = put_on_waitlist(patient_user.patient, nmpt, reception, practitioners=[coach])
        not_in_care = put_on_waitlist(other_patient_user.patient, myotherapy, reception)

        seen = self.ids(as_practitioner)

        assert any_practitioner.pk in seen
        assert someone_else.pk not in seen and not_in_care.pk not in seen

    def test_a_practitioner_sees_an_entry_naming_them(
        self, as_practitioner, patient_user, myotherapist, myotherapy, reception
    ):
        named = put_on_waitlist(
            patient_user.patient, myotherapy, reception, practitioners=[myotherapist]
        )

        assert self.ids(as_practitioner) == {named.pk}

    def test_a_practitioner_reads_but_does_not_change(self, as_practitioner, patients_entry):
        url = entry_url(patients_entry)

        assert as_practitioner.get(url).status_code == 200
        assert as_practitioner.get(url).json()["note"] is None
        assert as_practitioner.delete(url).status_code == 403

    def test_a_login_with_no_role_sees_none(self, patients_entry):
        nobody = UserFactory(email="nobody@example.com")
        nobody.groups.add(Group.objects.get_or_create(name="Nothing")[0])

        response = client_for(nobody).get(WAITLIST)

        assert response.json()["results"] == []


def test_an_open_entry_has_no_end_reason_and_an_ended_one_says_why(as_patient, patients_entry):
    assert as_patient.get(entry_url(patients_entry)).json()["end_reason"] is None

    as_patient.delete(entry_url(patients_entry))

    assert as_patient.get(entry_url(patients_entry)).json()["end_reason"] == "left"


def test_a_date_beyond_the_calendar_is_refused(as_patient, myotherapy):
    response = as_patient.post(WAITLIST, wish(myotherapy, latest_date="8750-10-13"), format="json")

    assert refused_fields(response) == ["latest_date"]
