"""One spelling of an email address everywhere (issue 13, item 7).

The lockout counted failures under Python's `lower()` while the sign-in matched the
account with PostgreSQL's `iexact` (UPPER of a dotless i, U+0131, is `I`): after five
wrong passwords the right one was refused for `iris@example.com` but accepted with both
its i's dotless. Now the address is reduced once (`accounts.emails.normalize_email`, which
is also `User.objects.normalize_email`) and matched exactly, wherever it is stored,
matched or counted.
"""

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import lockout_username
from patients.models import Patient
from tests.factories import PatientFactory, UserFactory

from .conftest import PASSWORD, TOKEN, admin_login

pytestmark = pytest.mark.django_db

ACCOUNT = "iris@example.com"
# Spellings that name the account: counted as its attempts, refused while it is locked.
SAME_ACCOUNT = {
    "mixed case": "IrIs@Example.COM",
    "trailing spaces": "iris@example.com   ",
    "leading ideographic space": "\u3000iris@example.com",
    "fullwidth letters": "\uff49\uff52\uff49\uff53@example.com",
    "fullwidth capitals": "\uff29\uff32\uff29\uff33@\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",
}
# Look-alikes that PostgreSQL's UPPER would have folded onto the account: other addresses.
LOOK_ALIKES = {
    "dotless i (U+0131)": "\u0131r\u0131s@example.com",
    "dotted capital I (U+0130)": "\u0130R\u0130S@example.com",
    "dotless i, capitals elsewhere": "\u0131RIS@EXAMPLE.COM",
}
SPELLINGS = {**SAME_ACCOUNT, **LOOK_ALIKES}


@pytest.fixture
def iris(db):
    return PatientFactory(user=UserFactory(email=ACCOUNT), email=ACCOUNT).user


def token_sign_in(email: str, password: str = PASSWORD):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json")


def lock_out(email: str = ACCOUNT) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        token_sign_in(email, f"wrong {n}")


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_no_spelling_signs_in_to_a_locked_out_account_by_token(iris, spelling):
    lock_out()

    response = token_sign_in(spelling)

    assert response.status_code in (401, 429)
    assert "access" not in response.json()
    expected = "locked_out" if spelling in SAME_ACCOUNT.values() else "no_active_account"
    assert response.json()["code"] == expected


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_no_spelling_signs_in_to_a_locked_out_account_in_the_admin(db, spelling):
    UserFactory(email=ACCOUNT, is_staff=True)
    lock_out()
    client = Client()

    admin_login(client, spelling)

    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("spelling", SAME_ACCOUNT.values(), ids=SAME_ACCOUNT.keys())
def test_failures_under_any_spelling_of_the_account_add_up(iris, spelling):
    lock_out(spelling)

    assert token_sign_in(ACCOUNT).json()["code"] == "locked_out"


@pytest.mark.parametrize("spelling", SAME_ACCOUNT.values(), ids=SAME_ACCOUNT.keys())
def test_each_spelling_of_the_account_signs_in_when_not_locked(iris, spelling):
    assert token_sign_in(spelling).status_code == 200


@pytest.mark.parametrize("spelling", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_a_look_alike_is_another_address(iris, spelling):
    assert token_sign_in(spelling).json()["code"] == "no_active_account"
    assert lockout_username(None, {"email": spelling}) != ACCOUNT


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_lockout_key_stored_form_and_match_agree(iris, spelling):
    """The three places an address is used reduce it the same way."""
    counted_as = lockout_username(None, {"email": spelling})
    stored_as = (
        User.objects.create_user(email=spelling, password=None).email
        if (User.objects.normalize_email(spelling) != ACCOUNT)
        else ACCOUNT
    )
    matched = User.objects.filter(email=counted_as).first()

    assert counted_as == stored_as == User.objects.normalize_email(spelling)
    assert matched is not None and matched.email == counted_as


def test_the_manager_and_the_model_store_the_one_spelling(db):
    created = User.objects.create_user(email=" \uff3aoe@Example.COM ", password=None)
    saved = UserFactory(email="Stra\u00dfe@Example.de")

    assert created.email == "zoe@example.com"
    assert User.objects.get(pk=saved.pk).email == "strasse@example.de"


class TestRegistration:
    BODY = {
        "password": "sciatica-free by spring",
        "first_name": "Iris",
        "last_name": "Ng",
        "phone": "0412 345 678",
        "date_of_birth": "1991-04-02",
    }

    @pytest.mark.parametrize("spelling", SAME_ACCOUNT.values(), ids=SAME_ACCOUNT.keys())
    def test_a_spelling_of_a_taken_address_makes_no_second_account(self, iris, spelling):
        response = APIClient().post("/api/v1/auth/register/", {**self.BODY, "email": spelling})

        assert response.status_code == 201
        assert User.objects.count() == 1 and Patient.objects.count() == 1

    def test_a_new_address_is_stored_as_it_will_be_matched(self, db):
        APIClient().post(
            "/api/v1/auth/register/", {**self.BODY, "email": "  Iris.NG@\uff25xample.com "}
        )

        patient = Patient.objects.get()
        assert patient.user.email == patient.email == "iris.ng@example.com"
        assert token_sign_in("IRIS.ng@example.com", self.BODY["password"]).status_code == 200


class TestTheAdminUserForm:
    @pytest.fixture
    def superuser(self, db):
        client = Client()
        client.force_login(
            UserFactory(email="owner@clinic.example", is_superuser=True, is_staff=True)
        )
        return client

    @pytest.mark.parametrize("spelling", SAME_ACCOUNT.values(), ids=SAME_ACCOUNT.keys())
    def test_adding_a_spelling_of_a_taken_address_is_a_form_error(self, iris, superuser, spelling):
        response = superuser.post(
            reverse("admin:accounts_user_add"),
            {
                "email": spelling,
                "password1": "a long new password",
                "password2": "a long new password",
                "usable_password": "true",
            },
        )

        assert response.status_code == 200
        assert "email" in response.context["adminform"].form.errors
        assert User.objects.count() == 2  # iris and the superuser

    def test_a_new_address_is_stored_normalised(self, superuser):
        response = superuser.post(
            reverse("admin:accounts_user_add"),
            {
                "email": "New.Desk@Clinic.example ",
                "password1": "a long new password",
                "password2": "a long new password",
                "usable_password": "true",
            },
        )

        assert response.status_code == 302
        assert User.objects.filter(email="new.desk@clinic.example").exists()


class TestTheDataMigration:
    def test_stored_addresses_take_the_one_spelling_and_look_alikes_keep_theirs(self, db, capsys):
        migration = importlib.import_module("accounts.migrations.0009_normalise_stored_emails")
        first = UserFactory(email="first@example.com")
        holder = UserFactory(email="zoe@example.com")
        look_alike = UserFactory(email="zoe2@example.com")
        fullwidth = UserFactory(email="fw@example.com")
        # Written past `save` (as rows written before this spelling was the rule).
        User.objects.filter(pk=first.pk).update(email="Stra\u00dfe@Example.de")
        User.objects.filter(pk=look_alike.pk).update(email="\uff5aoe@example.com")
        User.objects.filter(pk=fullwidth.pk).update(email="\uff46\uff57@example.com")

        migration.normalise_emails(apps, None)

        emails = dict(User.objects.values_list("pk", "email"))
        assert emails[first.pk] == "strasse@example.de"
        assert emails[holder.pk] == "zoe@example.com"
        assert emails[look_alike.pk] == "\uff5aoe@example.com"  # kept, reported
        assert emails[fullwidth.pk] == "fw@example.com"
        assert f"login {look_alike.pk}" in capsys.readouterr().out
