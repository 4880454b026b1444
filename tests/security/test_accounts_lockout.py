"""Sign-in lockout: after LOGIN_FAILURE_LIMIT failures an account is refused for
LOGIN_LOCKOUT_MINUTES, whatever the password, on the API and in the admin — and the limit
holds when the guesses come all at once."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from audit.models import Action, AuditEntry
from tests.diary.test_booking_race_http import Answer, race

from .conftest import ADMIN_LOGIN, PASSWORD, TOKEN, admin_login

LIMIT = settings.AXES_FAILURE_LIMIT
COOL_OFF = settings.AXES_COOLOFF_TIME
GUESSERS = 50


def test_the_limits_are_the_documented_defaults():
    assert LIMIT == 5
    assert timedelta(minutes=15) == COOL_OFF


def sign_in(client, email, password):
    return client.post(TOKEN, {"email": email, "password": password}, format="json")


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was really compared (across threads)."""
    counted = Counter()
    lock = threading.Lock()
    check_password = User.check_password

    def counting(user, raw_password):
        with lock:
            counted[user.email] += 1
        return check_password(user, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    return counted


@pytest.mark.django_db(transaction=True)
def test_fifty_guesses_at_once_reach_the_password_check_only_limit_times(
    desk, frozen_now, password_checks, monkeypatch
):
    """50 wrong passwords for one account sent at the same moment, each on its own thread
    and database connection: exactly LIMIT of them are compared with the password, the
    rest are refused as locked out, and then so is the right password — until the
    cool-off has passed."""
    # The per-address throttle (20/minute) would stop most of them before the lockout can.
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "auth", "1000/minute")
    clients = [APIClient() for _ in range(GUESSERS)]

    answers = race(
        [lambda c=c, n=n: sign_in(c, desk.email, f"guess {n}") for n, c in enumerate(clients)]
    )

    statuses = Counter(a.status if isinstance(a, Answer) else a for a in answers)
    assert statuses == Counter({401: LIMIT - 1, 429: GUESSERS - LIMIT + 1}), answers
    assert {a.body["code"] for a in answers if a.status == 429} == {"locked_out"}
    assert password_checks[desk.email] == LIMIT
    assert AccessAttempt.objects.get(username=desk.email).failures_since_start == LIMIT
    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() == LIMIT
    lockouts = Counter(e.detail["event"] for e in AuditEntry.objects.filter(action=Action.LOCKOUT))
    assert lockouts == Counter({"locked": 1, "refused": GUESSERS - LIMIT})

    refused = sign_in(APIClient(), desk.email, PASSWORD)
    assert refused.status_code == 429 and refused.json()["code"] == "locked_out"
    assert password_checks[desk.email] == LIMIT  # not even looked at

    frozen_now.shift(COOL_OFF - timedelta(seconds=1))
    assert sign_in(APIClient(), desk.email, PASSWORD).status_code == 429

    frozen_now.shift(timedelta(seconds=2))
    accepted = sign_in(APIClient(), desk.email, PASSWORD)
    assert accepted.status_code == 200, accepted.json()
    assert set(accepted.json()) == {"access", "refresh"}


@pytest.mark.django_db
class TestTheTokenEndpoint:
    def test_the_failure_that_reaches_the_limit_locks_and_says_when_to_retry(self, desk):
        for _ in range(LIMIT - 1):
            assert sign_in(APIClient(), desk.email, "wrong").status_code == 401

        locked = sign_in(APIClient(), desk.email, "wrong")

        assert locked.status_code == 429
        assert locked.json() == {
            "code": "locked_out",
            "detail": "Too many failed sign-ins: this account is locked. Try again in 15 minutes.",
        }
        assert locked["Retry-After"] == str(int(COOL_OFF.total_seconds()))

    def test_the_wait_counts_down_and_knocking_does_not_extend_it(self, desk, frozen_now):
        for _ in range(LIMIT):
            sign_in(APIClient(), desk.email, "wrong")
        frozen_now.shift(timedelta(minutes=10))

        knock = sign_in(APIClient(), desk.email, "wrong again")

        assert knock.status_code == 429
        assert knock["Retry-After"] == str(5 * 60)
        assert "Try again in 5 minutes." in knock.json()["detail"]
        frozen_now.shift(timedelta(minutes=5, seconds=1))
        assert sign_in(APIClient(), desk.email, PASSWORD).status_code == 200

    def test_the_email_counts_whatever_its_case_and_spaces(self, desk):
        for typed in ["DESK@clinic.example", " desk@Clinic.Example", "Desk@clinic.example "]:
            sign_in(APIClient(), typed, "wrong")
        sign_in(APIClient(), desk.email, "wrong")

        assert sign_in(APIClient(), desk.email, "wrong").json()["code"] == "locked_out"

    def test_one_account_locked_leaves_the_others_alone(self, desk, patient_login):
        for _ in range(LIMIT):
            sign_in(APIClient(), desk.email, "wrong")

        assert sign_in(APIClient(), patient_login.email, PASSWORD).status_code == 200

    def test_a_good_sign_in_clears_the_earlier_failures(self, desk):
        for _ in range(LIMIT - 1):
            sign_in(APIClient(), desk.email, "wrong")
        assert sign_in(APIClient(), desk.email, PASSWORD).status_code == 200

        for _ in range(LIMIT - 1):
            assert sign_in(APIClient(), desk.email, "wrong").status_code == 401
        assert sign_in(APIClient(), desk.email, PASSWORD).status_code == 200

    def test_guesses_at_unknown_accounts_are_locked_out_too(self, db):
        for _ in range(LIMIT):
            sign_in(APIClient(), "nobody@example.com", "guess")

        assert sign_in(APIClient(), "nobody@example.com", "guess").status_code == 429

    def test_the_throttle_counts_the_real_address_not_x_forwarded_for(self, db):
        """Without a trusted proxy, a made-up X-Forwarded-For must not buy a fresh count."""
        client = APIClient()
        statuses = [
            client.post(
                TOKEN,
                {"email": f"who{n}@example.com", "password": "guess"},
                HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            ).status_code
            for n in range(21)
        ]

        assert statuses[-1] == 429


@pytest.mark.django_db
class TestTheAdminLogin:
    def test_locks_after_the_limit_and_refuses_the_right_password(self, desk, frozen_now):
        for _ in range(LIMIT):
            assert admin_login(Client(), desk.email, "wrong").status_code == 200

        client = Client()
        refused = admin_login(client, desk.email)

        assert refused.status_code == 200  # the form again, with the reason
        assert "this account is locked. Try again in 15 minutes." in refused.content.decode()
        assert "_auth_user_id" not in client.session
        assert client.get("/admin/").status_code == 302

        frozen_now.shift(COOL_OFF + timedelta(seconds=1))
        accepted = admin_login(client, desk.email)
        assert accepted.status_code == 302 and accepted["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200

    def test_the_api_and_the_admin_share_one_count(self, desk):
        for _ in range(LIMIT - 1):
            admin_login(Client(), desk.email, "wrong")
        sign_in(APIClient(), desk.email, "wrong")

        assert "this account is locked" in admin_login(Client(), desk.email).content.decode()

    def test_the_login_page_has_the_code_field(self, db):
        page = Client().get(ADMIN_LOGIN).content.decode()

        assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page


def test_the_schema_documents_the_lockout_and_two_factor_answers(db):
    schema = Client().get("/api/schema/?format=json").json()
    sign_in_operation = schema["paths"]["/api/v1/auth/token/"]["post"]

    assert {"200", "401", "403", "429"} <= set(sign_in_operation["responses"])
    examples = sign_in_operation["responses"]["429"]["content"]["application/json"]["examples"]
    assert {example["value"]["code"] for example in examples.values()} == {
        "locked_out",
        "throttled",
    }
    body = schema["components"]["schemas"]["SignInRequest"]["properties"]
    assert set(body) == {"email", "password", "code"}
