import pytest

from accounts.models import User
from patients.models import Patient

from .conftest import client_for

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"

pytestmark = pytest.mark.django_db


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


class TestRegistration:
    def test_creates_the_login_and_the_patient_record(self, anonymous):
        response = anonymous.post(REGISTER, registration())

        assert response.status_code == 201, response.json()
        patient = Patient.objects.get(pk=response.json()["id"])
        assert patient.user.email == "zoe.runner@example.com"
        assert patient.user.check_password("sciatica-free by spring")
        assert str(patient.mobile) == "+61412345678"
        assert response.json()["mobile"] == "+61412345678"
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

        again = anonymous.post(REGISTER, registration(email="ZOE.RUNNER@example.com"))

        assert again.status_code == 400
        assert "email" in again.json()["fields"]
        assert User.objects.count() == 1 and Patient.objects.count() == 1


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
