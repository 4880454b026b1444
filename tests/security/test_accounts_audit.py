"""Every sign-in, failed sign-in and lockout is in the audit log, with where it came from —
and no password ever is."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from audit.models import Action, AuditEntry

from .conftest import PASSWORD, TOKEN, admin_login

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.7"


def sign_in(email, password):
    return APIClient().post(
        TOKEN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ADDRESS
    )


def only(action) -> AuditEntry:
    (entry,) = AuditEntry.objects.filter(action=action)
    return entry


def test_a_token_sign_in_is_recorded_with_its_address(patient_login):
    assert sign_in(patient_login.email, PASSWORD).status_code == 200

    entry = only(Action.LOGIN)
    assert (entry.actor, entry.actor_label, entry.source_ip) == (
        patient_login,
        patient_login.email,
        ADDRESS,
    )
    assert entry.detail == {"via": "api"}


def test_an_admin_sign_in_is_recorded_with_its_address(desk):
    assert admin_login(Client(), desk.email).status_code == 302

    entry = only(Action.LOGIN)
    assert (entry.actor, entry.source_ip, entry.detail) == (desk, ADDRESS, {"via": "session"})


def test_a_wrong_password_is_recorded_against_the_account_as_typed(patient_login):
    sign_in("ZOE@Example.com", "not my password")

    entry = only(Action.LOGIN_FAILED)
    assert (entry.actor, entry.actor_label, entry.source_ip) == (
        patient_login,
        "ZOE@Example.com",
        ADDRESS,
    )
    assert entry.detail == {"reason": "wrong_password_or_account"}
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()


def test_a_guess_at_an_unknown_account_has_no_actor(db):
    admin_login(Client(), "who@nowhere.example", "guess")

    entry = only(Action.LOGIN_FAILED)
    assert (entry.actor, entry.actor_label, entry.source_ip) == (
        None,
        "who@nowhere.example",
        ADDRESS,
    )


def test_the_lockout_and_each_refusal_during_it_are_recorded(desk):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        sign_in(desk.email, "wrong")

    assert AuditEntry.objects.filter(action=Action.LOGIN_FAILED).count() == 5
    locked, *refused = AuditEntry.objects.filter(action=Action.LOCKOUT).order_by("pk")
    assert locked.detail == {"event": "locked", "failures": 5}
    assert [entry.detail for entry in refused] == [{"event": "refused"}] * 2
    assert {(e.actor, e.actor_label, e.source_ip) for e in [locked, *refused]} == {
        (desk, desk.email, ADDRESS)
    }


def test_no_password_is_written_anywhere(desk):
    secret = "my-Secret-Guess-42"
    sign_in(desk.email, secret)
    admin_login(Client(), desk.email, secret)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(Client(), desk.email, secret)

    written = [repr((e.actor_label, e.detail, e.object_id)) for e in AuditEntry.objects.all()] + [
        repr((a.get_data, a.post_data, a.username)) for a in AccessAttempt.objects.all()
    ]
    assert written
    assert not [row for row in written if secret in row or PASSWORD in row]
