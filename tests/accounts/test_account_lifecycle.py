"""Issue 17, account lifecycle: a registering patient proves their address before booking;
a forgotten password is reset by a link; an address is changed by a link to the new one.
Every link is signed, expires and works once; asking for one tells nobody whether an
address has an account; every door is rate-limited."""

from datetime import timedelta

import pytest
from django.core import mail

from accounts.links import Purpose, make_token
from accounts.models import User
from audit.models import Action, AuditEntry
from tests.accounts.lifecycle_helpers import (
    ME,
    MY_EMAIL,
    PASSWORD,
    REGISTER,
    RESEND,
    RESET,
    RESET_CONFIRM,
    SITE,
    TOKEN,
    VERIFY,
    bearer,
    last_to,
    link_token,
    registration,
)
from tests.factories import PatientFactory, UserFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = [pytest.mark.usefixtures("frozen_now", "fresh_throttles"), pytest.mark.django_db]

ZOE = "zoe.runner@example.com"
NEW_PASSWORD = "lifting heavy, pain free"


def zoe_with_her_password() -> User:
    user = UserFactory(email=ZOE)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def registered(anonymous, sends):
    """Zoe registered online: her welcome email carries the verification link."""
    response = sends(anonymous.post, REGISTER, registration())
    assert response.status_code == 201, response.json()
    return User.objects.get(email=ZOE)


@pytest.fixture
def verification_token(registered):
    return link_token(last_to(ZOE), "verify-email")


@pytest.fixture
def as_zoe(anonymous, registered):
    anonymous.credentials(HTTP_AUTHORIZATION=bearer(anonymous, ZOE))
    return anonymous


class TestVerification:
    def test_registration_sends_a_link_to_the_site_and_the_account_starts_unverified(
        self, as_zoe, registered
    ):
        welcome = last_to(ZOE)

        assert welcome.subject == "Welcome to the clinic"
        assert f"{SITE}/#/verify-email?token=" in welcome.body
        assert registered.email_verified_at is None
        assert as_zoe.get(ME).json()["email_verified"] is False

    def test_following_the_link_verifies_the_address(self, as_zoe, verification_token):
        response = as_zoe.post(VERIFY, {"token": verification_token})

        assert response.status_code == 200, response.json()
        assert set(response.json()) == {"detail"}
        assert as_zoe.get(ME).json()["email_verified"] is True

    def test_the_link_works_once(self, anonymous, verification_token):
        anonymous.post(VERIFY, {"token": verification_token})

        again = anonymous.post(VERIFY, {"token": verification_token})

        assert again.status_code == 400
        assert again.json()["code"] == "invalid_token"

    def test_an_expired_link_is_refused(self, anonymous, verification_token, frozen_now):
        frozen_now.shift(timedelta(hours=48, seconds=1))

        response = anonymous.post(VERIFY, {"token": verification_token})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"
        assert User.objects.get(email=ZOE).email_verified_at is None

    @pytest.mark.parametrize(
        "spoil",
        [
            lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature
            lambda token: "x" + token,  # payload
            lambda token: "garbage",
            lambda token: "",
        ],
        ids=["signature", "payload", "garbage", "empty"],
    )
    def test_a_wrong_token_is_refused(self, anonymous, verification_token, spoil):
        response = anonymous.post(VERIFY, {"token": spoil(verification_token)})

        assert response.status_code == 400
        assert response.json()["code"] in {"invalid_token", "invalid"}  # empty: the field
        assert User.objects.get(email=ZOE).email_verified_at is None

    def test_a_link_made_for_another_purpose_does_not_verify(self, anonymous, registered):
        reset_token = make_token(registered, Purpose.RESET_PASSWORD)

        response = anonymous.post(VERIFY, {"token": reset_token})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_verifying_is_audited(self, anonymous, registered, verification_token):
        anonymous.post(VERIFY, {"token": verification_token})

        entry = AuditEntry.objects.get(action=Action.UPDATE, detail__account="email_verified")
        assert entry.actor == registered


class TestResendingTheLink:
    def test_an_unverified_account_gets_a_new_link_that_works(self, anonymous, registered, sends):
        mail.outbox.clear()

        response = sends(anonymous.post, RESEND, {"email": "Zoe.Runner@Example.com"})
        verified = anonymous.post(VERIFY, {"token": link_token(last_to(ZOE), "verify-email")})

        assert response.status_code == 202
        assert verified.status_code == 200

    def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
        self, anonymous, registered, sends
    ):
        UserFactory(email="verified@example.com")
        mail.outbox.clear()

        answers = [
            sends(anonymous.post, RESEND, {"email": email})
            for email in (ZOE, "nobody@example.com", "verified@example.com")
        ]

        assert {answer.status_code for answer in answers} == {202}
        assert len({str(answer.json()) for answer in answers}) == 1
        # Only the account that needs it is written to.
        assert [message.to for message in mail.outbox] == [[ZOE]]

    def test_it_is_limited_per_address_whether_or_not_it_has_an_account(self, anonymous):
        for email in (ZOE, "nobody@example.com"):
            statuses = [
                anonymous.post(RESEND, {"email": email}, REMOTE_ADDR=f"10.0.0.{n}").status_code
                for n in range(6)
            ]

            assert statuses == [202] * 5 + [429]

    def test_it_is_limited_per_client(self, anonymous):
        statuses = [
            anonymous.post(RESEND, {"email": f"z{n}@example.com"}).status_code for n in range(21)
        ]

        assert statuses[-1] == 429


class TestAnUnverifiedPatientCannotBook:
    @pytest.fixture
    def assessment_booking(self, assessment, myotherapist):
        return {
            "service": assessment.pk,
            "practitioner": myotherapist.pk,
            "start": at(TODAY + timedelta(days=3), 10).isoformat(),
        }

    def test_booking_is_refused_until_the_address_is_verified(
        self, as_zoe, verification_token, assessment_booking
    ):
        refused = as_zoe.post("/api/v1/appointments/", assessment_booking)
        as_zoe.post(VERIFY, {"token": verification_token})
        booked = as_zoe.post("/api/v1/appointments/", assessment_booking)

        assert refused.status_code == 403
        assert refused.json()["code"] == "email_unverified"
        assert booked.status_code == 201, booked.json()

    def test_the_rest_is_open_before(self, as_zoe):
        assert as_zoe.get("/api/v1/appointments/").status_code == 200
        assert as_zoe.patch(ME, {"consent_email": True}).status_code == 200

    def test_reception_books_for_an_unverified_patient(
        self, as_reception, registered, assessment_booking
    ):
        booking = {**assessment_booking, "patient": registered.patient.pk}

        response = as_reception.post("/api/v1/appointments/", booking)

        assert response.status_code == 201, response.json()


class TestPasswordReset:
    @pytest.fixture
    def zoe(self, db):
        user = zoe_with_her_password()
        PatientFactory(user=user, email=ZOE)
        return user

    @pytest.fixture
    def reset_token(self, anonymous, zoe, sends):
        response = sends(anonymous.post, RESET, {"email": "ZOE.runner@example.com"})
        assert response.status_code == 202
        return link_token(last_to(ZOE), "reset-password")

    def test_the_link_sets_a_new_password(self, anonymous, reset_token):
        response = anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        assert response.status_code == 200, response.json()
        assert anonymous.post(TOKEN, {"email": ZOE, "password": NEW_PASSWORD}).status_code == 200
        assert anonymous.post(TOKEN, {"email": ZOE, "password": PASSWORD}).status_code == 401

    def test_the_answer_is_the_same_whether_or_not_the_account_exists(self, anonymous, zoe, sends):
        known = sends(anonymous.post, RESET, {"email": ZOE})
        unknown = sends(anonymous.post, RESET, {"email": "nobody@example.com"})

        assert known.status_code == unknown.status_code == 202
        assert known.json() == unknown.json()
        assert [message.to for message in mail.outbox] == [[ZOE]]

    def test_the_link_works_once(self, anonymous, reset_token):
        anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        again = anonymous.post(
            RESET_CONFIRM, {"token": reset_token, "password": "another one, 2027"}
        )

        assert again.status_code == 400 and again.json()["code"] == "invalid_token"
        assert anonymous.post(TOKEN, {"email": ZOE, "password": NEW_PASSWORD}).status_code == 200

    def test_an_expired_link_is_refused(self, anonymous, reset_token, frozen_now):
        frozen_now.shift(timedelta(minutes=60, seconds=1))

        response = anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_a_wrong_token_is_refused(self, anonymous, reset_token):
        response = anonymous.post(
            RESET_CONFIRM, {"token": reset_token[:-2] + "xx", "password": NEW_PASSWORD}
        )

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_a_verification_link_does_not_reset(self, anonymous, zoe):
        token = make_token(zoe, Purpose.VERIFY_EMAIL)

        response = anonymous.post(RESET_CONFIRM, {"token": token, "password": NEW_PASSWORD})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_a_weak_password_is_refused_naming_it_and_the_link_still_works(
        self, anonymous, reset_token
    ):
        weak = anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": "password"})
        strong = anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        assert weak.status_code == 400 and "password" in weak.json()["fields"]
        assert strong.status_code == 200

    def test_signing_in_retires_the_link(self, anonymous, reset_token, frozen_now):
        frozen_now.shift(timedelta(seconds=5))
        anonymous.post(TOKEN, {"email": ZOE, "password": PASSWORD})

        response = anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_earlier_sign_ins_end(self, anonymous, zoe, frozen_now):
        signed_in = bearer(anonymous, ZOE)
        fresh = make_token(User.objects.get(pk=zoe.pk), Purpose.RESET_PASSWORD)  # after sign-in
        frozen_now.shift(timedelta(seconds=5))

        anonymous.post(RESET_CONFIRM, {"token": fresh, "password": NEW_PASSWORD})

        assert anonymous.get(ME, HTTP_AUTHORIZATION=signed_in).status_code == 401

    def test_it_is_audited(self, anonymous, zoe, reset_token):
        anonymous.post(RESET_CONFIRM, {"token": reset_token, "password": NEW_PASSWORD})

        assert AuditEntry.objects.filter(
            actor=zoe, action=Action.UPDATE, detail__account="password_reset"
        ).exists()

    def test_asking_is_limited_per_address(self, anonymous, zoe):
        statuses = [
            anonymous.post(RESET, {"email": ZOE}, REMOTE_ADDR=f"10.0.1.{n}").status_code
            for n in range(6)
        ]

        assert statuses == [202] * 5 + [429]

    def test_confirming_is_limited_per_client(self, anonymous):
        statuses = [
            anonymous.post(RESET_CONFIRM, {"token": f"t{n}", "password": NEW_PASSWORD}).status_code
            for n in range(21)
        ]

        assert statuses[:20] == [400] * 20 and statuses[20] == 429


class TestChangeOfEmail:
    NEW = "zoe@runners.example"

    @pytest.fixture
    def zoe(self, db):
        user = zoe_with_her_password()
        PatientFactory(user=user, email=ZOE, consent_email=True)
        return user

    @pytest.fixture
    def as_zoe(self, anonymous, zoe):
        anonymous.credentials(HTTP_AUTHORIZATION=bearer(anonymous, ZOE))
        return anonymous

    @pytest.fixture
    def change_token(self, as_zoe, sends):
        response = sends(as_zoe.post, MY_EMAIL, {"email": self.NEW, "password": PASSWORD})
        assert response.status_code == 202, response.json()
        return link_token(last_to(self.NEW), "verify-email")

    def test_nothing_changes_until_the_link_to_the_new_address_is_followed(
        self, as_zoe, change_token
    ):
        assert as_zoe.get(ME).json()["email"] == ZOE
        assert "asked to change" in last_to(ZOE).body  # the old address is told

        followed = as_zoe.post(VERIFY, {"token": change_token})

        assert followed.status_code == 200, followed.json()
        user = User.objects.get(email=self.NEW)
        assert user.email_verified and user.pending_email == ""
        assert user.patient.email == self.NEW  # the record's address follows the login's
        assert as_zoe.post(TOKEN, {"email": self.NEW, "password": PASSWORD}).status_code == 200

    def test_the_link_works_once(self, anonymous, change_token):
        anonymous.post(VERIFY, {"token": change_token})

        again = anonymous.post(VERIFY, {"token": change_token})

        assert again.status_code == 400 and again.json()["code"] == "invalid_token"

    def test_a_later_request_retires_the_earlier_link(self, as_zoe, change_token, sends):
        sends(as_zoe.post, MY_EMAIL, {"email": "zoe@elsewhere.example", "password": PASSWORD})

        response = as_zoe.post(VERIFY, {"token": change_token})

        assert response.status_code == 400 and response.json()["code"] == "invalid_token"

    def test_the_password_is_asked_again(self, as_zoe, zoe):
        response = as_zoe.post(MY_EMAIL, {"email": self.NEW, "password": "not it"})

        assert response.status_code == 400 and "password" in response.json()["fields"]
        assert User.objects.get(pk=zoe.pk).pending_email == ""

    def test_the_same_address_is_refused(self, as_zoe):
        response = as_zoe.post(MY_EMAIL, {"email": ZOE.upper(), "password": PASSWORD})

        assert response.status_code == 400 and "email" in response.json()["fields"]

    def test_an_address_taken_meanwhile_is_refused_when_the_link_is_followed(
        self, anonymous, change_token
    ):
        UserFactory(email=self.NEW)

        response = anonymous.post(VERIFY, {"token": change_token})

        assert response.status_code == 409 and response.json()["code"] == "email_taken"
        assert User.objects.filter(email=ZOE).exists()

    def test_it_is_for_signed_in_patients(self, anonymous):
        assert anonymous.post(MY_EMAIL, {"email": self.NEW, "password": PASSWORD}).status_code in (
            401,
            403,
        )

    def test_guessing_the_password_is_limited(self, as_zoe):
        statuses = [
            as_zoe.post(MY_EMAIL, {"email": self.NEW, "password": f"guess {n}"}).status_code
            for n in range(21)
        ]

        assert statuses[-1] == 429
