import pytest
from django.core import mail

from accounts.models import User
from clinic.celery import app as celery_app
from patients.models import Patient
from tests.factories import PatientFactory, UserFactory
from tests.fixtures.api_clients import client_for

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"

pytestmark = [pytest.mark.usefixtures("frozen_now", "fresh_throttles"), pytest.mark.django_db]


def registration(**changes):
    body = {
        "email": "Zoe.Runner@Example.com",
        "password": "sciatica-free by spring",
        "first_name": "Zoe",
        "last_name": "Runner",
        "phone": "0412 345 678",
        "date_of_birth": "1991-04-02",
    }
    body.update(changes)
    return body


@pytest.fixture
def eager_tasks():
    """Celery tasks run where they are queued (no worker in these tests)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


class TestRegistration:
    def test_creates_the_login_and_the_patient_record(self, anonymous):
        response = anonymous.post(REGISTER, registration())

        assert response.status_code == 201, response.json()
        assert response.json()["email"] == "zoe.runner@example.com"
        patient = Patient.objects.get(user__email="zoe.runner@example.com")
        assert patient.email == "zoe.runner@example.com"
        assert patient.user.check_password("sciatica-free by spring")
        assert str(patient.mobile) == "+61412345678"
        assert "password" not in response.json()

    def test_passwords_are_hashed_with_argon2_in_production(self):
        from clinic.settings import base

        assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"password": "password"}, "password"),
            ({"password": "Zoe.Runner@Example.com"}, "password"),
            ({"phone": "12"}, "phone"),
            ({"email": "not-an-email"}, "email"),
            ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
            ({"date_of_birth": "01/02/1990"}, "date_of_birth"),
            ({"first_name": ""}, "first_name"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(self, anonymous, changes, field):
        response = anonymous.post(REGISTER, registration(**changes))

        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert field in response.json()["fields"]
        assert not User.objects.exists()

    def test_missing_fields_are_each_named(self, anonymous):
        response = anonymous.post(REGISTER, {})

        assert response.status_code == 400
        assert set(response.json()["fields"]) == {
            "email",
            "password",
            "first_name",
            "last_name",
            "phone",
            "date_of_birth",
        }

    def test_an_email_registers_once_whatever_its_case(self, anonymous):
        anonymous.post(REGISTER, registration())

        again = anonymous.post(REGISTER, registration(email="ZOE.RUNNER@example.com "))

        assert again.status_code == 201
        assert User.objects.count() == 1 and Patient.objects.count() == 1


class TestRegistrationTellsNobodyWhichAddressesHaveAccounts:
    """Issue 13, item 10: an address with an account (a patient's or staff's) is answered
    exactly as a new one, gets no second account, and its owner hears of it by email."""

    @pytest.fixture(
        params=["patient", "staff", "superuser"],
        ids=["a patient's", "a receptionist's", "a superuser's"],
    )
    def existing(self, request, db):
        user = UserFactory(
            email="kept@clinic.example",
            first_name="Kept",
            is_staff=request.param != "patient",
            is_superuser=request.param == "superuser",
        )
        if request.param == "patient":
            PatientFactory(user=user, first_name="Kept", email=user.email)
        return user

    def test_the_answer_is_the_same_as_for_a_new_address(self, anonymous, existing):
        new = anonymous.post(REGISTER, registration(email="brand.new@example.com"))

        taken = anonymous.post(REGISTER, registration(email="Kept@Clinic.example"))

        assert (taken.status_code, new.status_code) == (201, 201)
        assert set(taken.json()) == set(new.json()) == {"email", "detail"}
        assert taken.json()["detail"] == new.json()["detail"]
        assert taken.json()["email"] == "kept@clinic.example"
        assert taken.headers.keys() == new.headers.keys()

    def test_nothing_of_the_existing_account_changes_and_no_tokens_are_given(
        self, anonymous, existing
    ):
        before = User.objects.values().get(pk=existing.pk)
        patients_before = list(Patient.objects.values())

        response = anonymous.post(
            REGISTER, registration(email=existing.email, first_name="Mallory")
        )

        assert "access" not in response.json() and "refresh" not in response.json()
        assert User.objects.values().get(pk=existing.pk) == before
        assert list(Patient.objects.values()) == patients_before
        assert User.objects.count() == 1
        signing_in = anonymous.post(
            TOKEN, {"email": existing.email, "password": "sciatica-free by spring"}
        )
        assert signing_in.status_code == 401

    def test_the_owner_is_told_and_a_newcomer_welcomed(
        self, anonymous, existing, eager_tasks, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            anonymous.post(REGISTER, registration(email=existing.email.upper()))
            anonymous.post(REGISTER, registration(email="brand.new@example.com"))

        emails_sent = mail.outbox
        assert [(m.to, m.subject) for m in emails_sent] == [
            (["kept@clinic.example"], "Someone tried to register with your email address"),
            (["brand.new@example.com"], "Welcome to the clinic"),
        ]
        assert "nothing was created and nothing was changed" in emails_sent[0].body

    def test_a_bad_password_is_refused_alike(self, anonymous, existing):
        taken = anonymous.post(REGISTER, registration(email=existing.email, password="password"))
        new = anonymous.post(REGISTER, registration(email="new@example.com", password="password"))

        assert taken.status_code == new.status_code == 400
        assert taken.json() == new.json()


class TestTokens:
    @pytest.fixture
    def registered(self, anonymous):
        anonymous.post(REGISTER, registration())

    def test_email_and_password_give_tokens_that_open_the_api(self, anonymous, registered):
        tokens = anonymous.post(
            TOKEN, {"email": "zoe.runner@example.com", "password": "sciatica-free by spring"}
        ).json()
        me = anonymous.get("/api/v1/patients/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

        assert set(tokens) == {"access", "refresh"}
        assert me.status_code == 200 and me.json()["first_name"] == "Zoe"

    def test_the_refresh_token_gives_a_new_access_token(self, anonymous, registered):
        tokens = anonymous.post(
            TOKEN, {"email": "zoe.runner@example.com", "password": "sciatica-free by spring"}
        ).json()

        refreshed = anonymous.post(REFRESH, {"refresh": tokens["refresh"]})

        assert refreshed.status_code == 200 and "access" in refreshed.json()

    def test_wrong_password_is_401_with_a_code(self, anonymous, registered):
        response = anonymous.post(TOKEN, {"email": "zoe.runner@example.com", "password": "no"})

        assert response.status_code == 401
        assert response.json() == {
            "code": "no_active_account",
            "detail": "Wrong email, password or two-factor code, or an inactive account.",
        }

    def test_a_forged_token_is_401(self, anonymous):
        response = anonymous.get("/api/v1/patients/me/", HTTP_AUTHORIZATION="Bearer not.a.jwt")

        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"

    def test_a_garbage_refresh_token_is_401(self, anonymous):
        response = anonymous.post(REFRESH, {"refresh": "garbage"})

        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"

    def test_staff_sign_in_at_the_same_endpoint(self, anonymous, reception):
        response = anonymous.post(
            TOKEN, {"email": reception.email, "password": "correct horse battery staple"}
        )

        assert response.status_code == 200


def test_sign_in_is_throttled_with_retry_after(anonymous):
    """Per client address, whichever accounts it tries (each is guessed too few times to be
    locked out)."""
    responses = [
        anonymous.post(TOKEN, {"email": f"who{n}@example.com", "password": "guess"})
        for n in range(21)
    ]

    assert {r.status_code for r in responses[:20]} == {401}
    assert responses[20].status_code == 429
    assert responses[20].json()["code"] == "throttled"
    assert int(responses[20]["Retry-After"]) > 0


def test_registration_is_throttled(anonymous):
    statuses = [
        anonymous.post(REGISTER, registration(email=f"z{n}@example.com")).status_code
        for n in range(21)
    ]

    assert statuses[-1] == 429


def test_a_user_with_no_role_sees_no_patient_data(db):
    from tests.factories import UserFactory

    nobody = client_for(UserFactory(email="nobody@example.com"))

    assert nobody.get("/api/v1/appointments/").status_code == 403
    assert nobody.get("/api/v1/patients/").status_code == 403
    assert nobody.get("/api/v1/patients/me/").status_code == 403
