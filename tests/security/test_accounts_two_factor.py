"""Two-factor sign-in with an authenticator app: staff enrol themselves in the admin, then
sign in with a code; a manager can require it of every member of staff."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import SecurityPolicy
from accounts.permissions import sync_role_group
from audit.models import Action, AuditEntry
from tests.factories import UserFactory

from .conftest import PASSWORD, TOKEN, admin_login, code_of, enrol

pytestmark = pytest.mark.django_db

ENROLMENT = "/admin/two-factor/"
A_WHILE = timedelta(seconds=31)  # the next code: each is good once, for 30 s


@pytest.fixture
def required():
    SecurityPolicy.objects.update_or_create(id=1, defaults={"require_two_factor_for_staff": True})


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


class TestSigningInToTheAdmin:
    def test_without_a_device_the_password_is_enough(self, desk):
        client = Client()

        response = admin_login(client, desk.email)

        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_an_enrolled_member_of_staff_needs_the_code(self, desk):
        enrol(desk)
        client = Client()

        response = admin_login(client, desk.email)

        assert response.status_code == 200
        assert "the two-factor code if you have set it up" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_a_wrong_code_is_refused_like_a_wrong_password(self, desk):
        device = enrol(desk)
        client = Client()

        response = admin_login(client, desk.email, code=wrong(code_of(device)))

        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        failed = AuditEntry.objects.get(action=Action.LOGIN_FAILED)
        assert (failed.actor, failed.detail) == (desk, {"reason": "wrong_code"})

    def test_the_right_code_signs_in_and_the_session_counts_as_verified(self, desk, frozen_now):
        device = enrol(desk)
        client = Client()

        response = admin_login(client, desk.email, code=code_of(device))

        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200
        assert client.get(reverse("admin:patients_patient_changelist")).status_code == 200

    def test_a_code_is_good_once(self, desk):
        device = enrol(desk)
        code = code_of(device)
        assert admin_login(Client(), desk.email, code=code).status_code == 302

        assert admin_login(Client(), desk.email, code=code).status_code == 200

    def test_spaces_in_the_code_are_fine(self, desk):
        code = code_of(enrol(desk))

        assert admin_login(Client(), desk.email, code=f"{code[:3]} {code[3:]}").status_code == 302

    def test_wrong_codes_count_towards_the_lockout(self, desk, frozen_now):
        device = enrol(desk)
        for _ in range(5):
            frozen_now.shift(A_WHILE)
            admin_login(Client(), desk.email, code=wrong(code_of(device)))
        frozen_now.shift(A_WHILE)

        response = admin_login(Client(), desk.email, code=code_of(device))

        assert "this account is locked" in response.content.decode()

    def test_a_device_added_after_signing_in_asks_for_the_code(self, desk):
        client = signed_in(desk)
        assert client.get("/admin/").status_code == 200

        enrol(desk)

        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


class TestEnrolment:
    def test_the_page_shows_a_qr_code_and_the_secret_of_a_new_device(self, desk):
        response = signed_in(desk).get(ENROLMENT)

        assert response.status_code == 200
        device = TOTPDevice.objects.get(user=desk, confirmed=False)
        page = response.content.decode()
        assert "<svg" in page
        assert response.context["otpauth_uri"] == device.config_url
        assert device.config_url.startswith("otpauth://totp/Clinic%3Adesk%40clinic.example?")
        assert response.context["secret"].replace(" ", "") in device.config_url
        assert "no-store" in response["Cache-Control"]

    def test_the_right_code_confirms_the_device_and_verifies_the_session(self, desk, frozen_now):
        client = signed_in(desk)
        client.get(ENROLMENT)
        device = TOTPDevice.objects.get(user=desk)

        response = client.post(ENROLMENT, {"code": code_of(device)})

        assert response.status_code == 302 and response["Location"] == "/admin/"
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/admin/").status_code == 200  # no second sign-in needed
        entry = AuditEntry.objects.get(action=Action.UPDATE, object_type="accounts.user")
        assert (entry.actor, entry.detail) == (desk, {"two_factor": "enrolled"})
        frozen_now.shift(A_WHILE)
        assert admin_login(Client(), desk.email).status_code == 200  # now the code is needed
        frozen_now.shift(A_WHILE)  # a failure slows the device down for a moment
        assert admin_login(Client(), desk.email, code=code_of(device)).status_code == 302

    def test_a_wrong_code_leaves_the_device_unconfirmed(self, desk):
        client = signed_in(desk)
        client.get(ENROLMENT)
        device = TOTPDevice.objects.get(user=desk)

        response = client.post(ENROLMENT, {"code": wrong(code_of(device))})

        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        device.refresh_from_db()
        assert not device.confirmed

    def test_a_new_phone_replaces_the_old_one_once_confirmed(self, desk, frozen_now):
        old = enrol(desk)
        client = Client()
        admin_login(client, desk.email, code=code_of(old))
        client.get(f"{ENROLMENT}?replace=1")
        new = TOTPDevice.objects.get(user=desk, confirmed=False)
        frozen_now.shift(A_WHILE)

        client.post(ENROLMENT, {"code": code_of(new)})

        assert list(TOTPDevice.objects.filter(user=desk)) == [new]

    def test_the_admin_home_page_links_to_it(self, desk):
        page = signed_in(desk).get("/admin/").content.decode()

        assert "Two-factor sign-in is off." in page and f'href="{ENROLMENT}"' in page


class TestTheManagersRequirement:
    def test_off_by_default(self, desk):
        assert not SecurityPolicy.current().require_two_factor_for_staff
        assert signed_in(desk).get("/admin/").status_code == 200

    def test_a_manager_switches_it_on_in_the_admin(self, db):
        manager = UserFactory(email="boss@clinic.example", is_staff=True)
        manager.groups.add(sync_role_group("Manager"))
        client = signed_in(manager)

        response = client.post(
            reverse("admin:accounts_securitypolicy_change", args=[1]),
            {"require_two_factor_for_staff": "on"},
        )

        assert response.status_code == 302
        assert SecurityPolicy.current().require_two_factor_for_staff

    def test_reception_may_not_change_it(self, desk):
        url = reverse("admin:accounts_securitypolicy_change", args=[1])

        assert signed_in(desk).post(url, {"require_two_factor_for_staff": ""}).status_code == 403

    @pytest.mark.parametrize(
        "page", ["/admin/", "/admin/patients/patient/", "/admin/password_change/"]
    )
    def test_staff_without_a_device_are_sent_to_enrol(self, desk, required, page):
        client = Client()
        assert admin_login(client, desk.email).status_code == 302  # the password still works

        response = client.get(page)

        assert response.status_code == 302 and response["Location"] == "/admin/two-factor/"

    def test_the_enrolment_page_says_why_and_logging_out_still_works(self, desk, required):
        client = signed_in(desk)

        assert "The clinic requires two-factor sign-in" in client.get(ENROLMENT).content.decode()
        assert client.post("/admin/logout/").status_code == 200
        assert "_auth_user_id" not in client.session

    def test_once_enrolled_they_use_the_admin_with_the_code(self, desk, required, frozen_now):
        client = signed_in(desk)
        client.get(ENROLMENT)
        client.post(ENROLMENT, {"code": code_of(TOTPDevice.objects.get(user=desk))})
        assert client.get("/admin/patients/patient/").status_code == 200

        frozen_now.shift(A_WHILE)
        again = Client()
        assert admin_login(again, desk.email).status_code == 200
        frozen_now.shift(A_WHILE)
        admin_login(again, desk.email, code=code_of(TOTPDevice.objects.get(user=desk)))
        assert again.get("/admin/patients/patient/").status_code == 200


class TestTheTokenEndpoint:
    """The API is no way round the admin's second factor."""

    def sign_in(self, email, code=None):
        body = {"email": email, "password": PASSWORD}
        if code is not None:
            body["code"] = code
        return APIClient().post(TOKEN, body, format="json")

    def test_an_enrolled_user_needs_the_code(self, desk, frozen_now):
        device = enrol(desk)

        assert self.sign_in(desk.email).json()["code"] == "no_active_account"
        frozen_now.shift(A_WHILE)
        assert self.sign_in(desk.email, wrong(code_of(device))).status_code == 401
        frozen_now.shift(A_WHILE)
        assert self.sign_in(desk.email, code_of(device)).status_code == 200

    def test_required_staff_without_a_device_get_no_token(self, desk, required):
        response = self.sign_in(desk.email)

        assert response.status_code == 403
        assert response.json()["code"] == "two_factor_required"

    def test_the_requirement_is_for_staff_not_patients(self, patient_login, required):
        assert self.sign_in(patient_login.email).status_code == 200
