"""When a sign-in ends (issue 13, item 6): a staff session that skipped the second factor
opens no API; a sign-in lasts SIGN_IN_MAX_AGE however often it is refreshed; a new
password ends every sign-in made before it, tokens and admin sessions alike."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import SecurityPolicy
from tests.factories import UserFactory

from .conftest import PASSWORD, REFRESH, TOKEN, admin_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new password for spring"
PRIVATE_PAGES = ["/api/v1/patients/", "/api/v1/appointments/"]


def tokens_of(user, password: str = PASSWORD) -> dict:
    answer = APIClient().post(TOKEN, {"email": user.email, "password": password}, format="json")
    assert answer.status_code == 200, answer.json()
    return answer.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(token: str):
    return APIClient().post(REFRESH, {"refresh": token}, format="json")


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


class TestTheSessionCookieAndTheSecondFactor:
    @pytest.mark.parametrize("page", PRIVATE_PAGES)
    def test_a_password_only_admin_session_reads_nothing_while_two_factor_is_required(
        self, desk, page
    ):
        SecurityPolicy.objects.update_or_create(
            id=1, defaults={"require_two_factor_for_staff": True}
        )
        client = Client()
        assert admin_login(client, desk.email).status_code == 302  # signed in, sent to enrol

        response = client.get(page)

        assert response.status_code == 403
        assert response.json()["code"] == "two_factor_required"

    @pytest.mark.parametrize("page", PRIVATE_PAGES)
    def test_the_same_session_reads_them_while_it_is_not(self, desk, page):
        client = Client()
        admin_login(client, desk.email)

        assert client.get(page).status_code == 200


class TestRefreshingAndTheSecondFactor:
    def test_a_refresh_token_from_before_the_policy_mints_no_more_tokens(self, desk):
        earlier = tokens_of(desk)
        SecurityPolicy.objects.update_or_create(
            id=1, defaults={"require_two_factor_for_staff": True}
        )

        response = refresh(earlier["refresh"])

        assert response.status_code == 403
        assert response.json()["code"] == "two_factor_required"
        assert "access" not in response.json()


class TestTheLongestSignIn:
    def test_the_setting_is_the_documented_default(self):
        assert timedelta(hours=12) == settings.SIGN_IN_MAX_AGE

    def test_refreshing_keeps_the_time_of_the_sign_in(self, patient_login, frozen_now):
        first = tokens_of(patient_login)
        frozen_now.shift(timedelta(hours=1))

        again = refresh(first["refresh"]).json()

        assert claims(again["refresh"])["auth_time"] == claims(first["refresh"])["auth_time"]
        assert claims(again["access"])["auth_time"] == claims(first["refresh"])["auth_time"]

    def test_a_sign_in_refreshed_every_hour_ends_after_the_longest_sign_in(
        self, patient_login, frozen_now
    ):
        token = tokens_of(patient_login)["refresh"]
        for _ in range(11):
            frozen_now.shift(timedelta(hours=1))
            answer = refresh(token)
            assert answer.status_code == 200
            token = answer.json()["refresh"]
        frozen_now.shift(timedelta(hours=1, seconds=1))  # 12 h and a second since the password

        response = refresh(token)

        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"
        assert tokens_of(patient_login)["access"]  # signing in again starts a new one

    def test_an_access_token_ends_with_its_sign_in_too(self, patient_login, frozen_now):
        token = tokens_of(patient_login)["refresh"]
        frozen_now.shift(settings.SIGN_IN_MAX_AGE - timedelta(minutes=5))
        access = refresh(token).json()["access"]
        client = bearer(access)
        assert client.get("/api/v1/patients/me/").status_code == 200

        frozen_now.shift(timedelta(minutes=5, seconds=1))

        assert client.get("/api/v1/patients/me/").status_code == 401


class TestANewPasswordEndsEarlierSignIns:
    @pytest.fixture
    def earlier(self, patient_login, frozen_now):
        tokens = tokens_of(patient_login)
        frozen_now.shift(timedelta(seconds=1))
        return tokens

    def change_password_in_the_shell(self, user):
        user.set_password(NEW_PASSWORD)
        user.save()

    def change_password_in_the_admin(self, user):
        owner = UserFactory(email="owner@clinic.example", is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(owner)
        answer = client.post(
            reverse("admin:auth_user_password_change", args=[user.pk]),
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
        assert answer.status_code == 302

    @pytest.mark.parametrize("where", ["in the shell", "in the admin"])
    def test_access_and_refresh_tokens_from_before_are_refused(self, patient_login, earlier, where):
        if where == "in the shell":
            self.change_password_in_the_shell(patient_login)
        else:
            self.change_password_in_the_admin(patient_login)

        assert bearer(earlier["access"]).get("/api/v1/patients/me/").status_code == 401
        response = refresh(earlier["refresh"])
        assert response.status_code == 401 and response.json()["code"] == "token_not_valid"

    def test_a_sign_in_with_the_new_password_works(self, patient_login, earlier):
        self.change_password_in_the_shell(patient_login)

        fresh = tokens_of(patient_login, NEW_PASSWORD)

        assert bearer(fresh["access"]).get("/api/v1/patients/me/").status_code == 200
        assert refresh(fresh["refresh"]).status_code == 200

    def test_signing_in_again_with_the_same_password_changes_nothing(self, patient_login, earlier):
        tokens_of(patient_login)

        assert bearer(earlier["access"]).get("/api/v1/patients/me/").status_code == 200
        assert refresh(earlier["refresh"]).status_code == 200

    def test_an_admin_session_ends_too(self, desk):
        session = Client()
        admin_login(session, desk.email)
        assert session.get("/admin/").status_code == 200

        self.change_password_in_the_admin(desk)

        response = session.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
