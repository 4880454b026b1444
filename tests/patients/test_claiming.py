"""Issue 17: a patient reception already keeps, registering online, ends up with one record.

When the registration's address is proved and matches a record reception keeps with no
login, the login takes that record over; otherwise a record with the same name and date of
birth is flagged for reception as a probable duplicate."""

from datetime import date

import pytest

from audit.models import Action, AuditEntry
from patients.models import Patient
from tests.accounts.lifecycle_helpers import (
    ME,
    REGISTER,
    VERIFY,
    bearer,
    last_to,
    link_token,
    registration,
)
from tests.factories import PatientFactory
from treatments.services import submit_intake

pytestmark = [pytest.mark.usefixtures("frozen_now", "fresh_throttles"), pytest.mark.django_db]

ZOE = "zoe.runner@example.com"


@pytest.fixture
def kept_by_reception(db):
    """Zoe's record, typed in at the front desk (the address in another case), no login."""
    return PatientFactory(
        first_name="Zoe",
        last_name="Runner",
        date_of_birth=date(1991, 4, 2),
        email="Zoe.Runner@example.com",
        mobile="",
        consent_email=False,
    )


def register_and_verify(client, sends, **changes) -> Patient:
    response = sends(client.post, REGISTER, registration(**changes))
    assert response.status_code == 201, response.json()
    verified = client.post(VERIFY, {"token": link_token(last_to(ZOE), "verify-email")})
    assert verified.status_code == 200, verified.json()
    return Patient.objects.get(user__email=ZOE)


class TestTheLoginTakesOverReceptionsRecord:
    def test_one_record_is_left_and_it_is_receptions(self, anonymous, sends, kept_by_reception):
        patient = register_and_verify(anonymous, sends, consent_email=True)

        assert patient.pk == kept_by_reception.pk
        assert Patient.objects.filter(is_active=True, user__isnull=False).count() == 1
        merged = Patient.objects.exclude(pk=kept_by_reception.pk).get()
        assert merged.user is None and merged.is_archived and not merged.is_active
        assert f"#{kept_by_reception.pk}" in merged.archive_reason

    def test_the_patient_sees_their_record_with_what_they_gave_online(
        self, anonymous, sends, kept_by_reception
    ):
        register_and_verify(anonymous, sends, consent_email=True)

        me = anonymous.get(ME, HTTP_AUTHORIZATION=bearer(anonymous, ZOE)).json()

        assert me["id"] == kept_by_reception.pk
        assert me["email_verified"] is True
        assert me["phone"] == "+61412345678"  # the record had none
        assert me["consent_email"] is True  # answered online, after the desk's

    def test_the_merge_is_audited(self, anonymous, sends, kept_by_reception):
        patient = register_and_verify(anonymous, sends)

        linked = AuditEntry.objects.get(action=Action.UPDATE, patient_id=patient.pk)
        assert linked.actor == patient.user and "login_linked" in linked.detail
        assert AuditEntry.objects.filter(
            action=Action.ARCHIVE, detail__merged_into=patient.pk
        ).exists()

    def test_nothing_is_linked_before_the_address_is_proved(
        self, anonymous, sends, kept_by_reception
    ):
        sends(anonymous.post, REGISTER, registration())

        kept_by_reception.refresh_from_db()
        assert kept_by_reception.user is None
        assert Patient.objects.get(user__email=ZOE).pk != kept_by_reception.pk

    def test_a_record_with_a_login_is_never_taken_over(self, anonymous, sends, kept_by_reception):
        from tests.factories import UserFactory

        kept_by_reception.user = UserFactory(email="someone.else@example.com")
        kept_by_reception.save()

        patient = register_and_verify(anonymous, sends)

        assert patient.pk != kept_by_reception.pk
        assert patient.possible_duplicate_of == kept_by_reception  # same name and birth date


class TestOtherwiseReceptionIsTold:
    def test_same_name_and_birth_date_under_another_address_is_flagged(
        self, anonymous, sends, kept_by_reception
    ):
        kept_by_reception.email = "zoe@work.example"
        kept_by_reception.save()

        patient = register_and_verify(anonymous, sends)

        assert patient.pk != kept_by_reception.pk
        assert patient.possible_duplicate_of == kept_by_reception
        assert AuditEntry.objects.filter(
            patient_id=patient.pk, detail__possible_duplicate_of=kept_by_reception.pk
        ).exists()

    def test_a_registration_that_already_holds_something_is_flagged_not_merged(
        self, anonymous, sends, kept_by_reception
    ):
        sends(anonymous.post, REGISTER, registration())
        online = Patient.objects.get(user__email=ZOE)
        submit_intake(
            patient=online,
            answers={
                "complaint": "Sciatica",
                "pain_score": 4,
                "duration": "chronic",
                "activity": "new_runner",
            },
            entered_by=online.user,
        )

        anonymous.post(VERIFY, {"token": link_token(last_to(ZOE), "verify-email")})

        online.refresh_from_db()
        assert online.user.email == ZOE and online.is_active
        assert online.possible_duplicate_of == kept_by_reception

    def test_a_stranger_is_not_flagged(self, anonymous, sends):
        PatientFactory(first_name="Zoe", last_name="Runner", date_of_birth=date(1980, 1, 1))

        patient = register_and_verify(anonymous, sends)

        assert patient.possible_duplicate_of is None

    def test_reception_sees_the_flag_in_the_patient_list(
        self, anonymous, sends, kept_by_reception, reception_staff
    ):
        kept_by_reception.email = "zoe@work.example"
        kept_by_reception.save()
        patient = register_and_verify(anonymous, sends)

        flagged = reception_staff.get(
            "/admin/patients/patient/", {"possible_duplicate_of__isempty": "0"}
        )
        page = reception_staff.get(f"/admin/patients/patient/{patient.pk}/change/")

        assert flagged.status_code == 200
        assert "Probable duplicate" in flagged.content.decode()
        assert list(flagged.context["cl"].result_list) == [patient]
        assert page.status_code == 200
        assert "possible_duplicate_of" in page.content.decode()


def test_an_address_shared_by_a_family_does_not_hand_over_the_childs_record(
    anonymous, sends, kept_by_reception
):
    """Reception typed a parent's address on their child's record: the parent registering
    with it gets a record of their own, flagged for reception, not the child's."""
    kept_by_reception.first_name, kept_by_reception.date_of_birth = "Milo", date(2015, 9, 9)
    kept_by_reception.save()

    patient = register_and_verify(anonymous, sends)

    kept_by_reception.refresh_from_db()
    assert patient.pk != kept_by_reception.pk and kept_by_reception.user is None
    assert patient.possible_duplicate_of == kept_by_reception
