"""How long a sign-in lasts: API access tokens 15 minutes, refresh tokens a day and good
once, admin sessions a working day (12 hours) and no longer than the browser is open."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from .conftest import PASSWORD, REFRESH, TOKEN, admin_login

pytestmark = pytest.mark.django_db


def lifetime(token: str) -> timedelta:
    claims = jwt.decode(token, options={"verify_signature": False})
    return timedelta(seconds=claims["exp"] - claims["iat"])


def test_the_configured_lifetimes_are_the_documented_defaults():
    assert timedelta(minutes=15) == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert timedelta(days=1) == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert timedelta(hours=12).total_seconds() == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_the_tokens_carry_the_configured_lifetimes(patient_login):
    tokens = (
        APIClient()
        .post(TOKEN, {"email": patient_login.email, "password": PASSWORD}, format="json")
        .json()
    )

    assert lifetime(tokens["access"]) == settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert lifetime(tokens["refresh"]) == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]


def test_an_access_token_stops_working_after_its_lifetime(patient_login, frozen_now):
    tokens = (
        APIClient()
        .post(TOKEN, {"email": patient_login.email, "password": PASSWORD}, format="json")
        .json()
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/patients/me/").status_code == 200

    frozen_now.shift(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] + timedelta(seconds=1))

    assert client.get("/api/v1/patients/me/").status_code == 401


def test_a_refresh_token_is_good_once_and_gives_a_new_one(patient_login):
    client = APIClient()
    first = client.post(
        TOKEN, {"email": patient_login.email, "password": PASSWORD}, format="json"
    ).json()

    refreshed = client.post(REFRESH, {"refresh": first["refresh"]}, format="json")
    again = client.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access", "refresh"}
    assert lifetime(refreshed.json()["refresh"]) == settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    assert again.status_code == 401 and again.json()["code"] == "token_not_valid"
    assert client.post(REFRESH, {"refresh": refreshed.json()["refresh"]}).status_code == 200


def test_an_admin_session_lasts_the_configured_hours_and_ends_with_the_browser(desk):
    client = Client()

    response = admin_login(client, desk.email)

    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date == timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie
