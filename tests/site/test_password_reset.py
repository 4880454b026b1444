"""A patient who forgot their password asks for a link, follows it, chooses a new password
and signs in with it."""

import re

import pytest
from django.core import mail

from tests.factories import PatientFactory, UserFactory
from tests.site.pages import Site

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a brand new and long phrase"
LINK = re.compile(r"/(#/reset-password\?token=[^\s\"'<>]+)")


@pytest.fixture
def forgetful(db):
    return PatientFactory(user=UserFactory(email="fay@example.com"), first_name="Fay").user


def test_a_patient_resets_a_forgotten_password(browser, site, artifacts_dir, forgetful):
    page = Site(browser, site, artifacts_dir)
    page.open("#/sign-in")
    page.heading("Sign in")
    page.press("Forgotten your password?")
    page.heading("Forgotten password")
    page.type("Email", forgetful.email)
    page.press("Send the link")
    page.text_appears(f"If {forgetful.email} has an account with us, a link is on its way")

    [message] = [m for m in mail.outbox if forgetful.email in m.to]
    page.open(LINK.search(message.body).group(1))
    page.heading("Choose a new password")
    page.type("New password", NEW_PASSWORD)
    page.screenshot(artifacts_dir / "reset-1-new-password.png")
    page.press("Save the new password")

    page.heading("Sign in")
    page.text_appears("Your password has been changed")
    form = page.find("form.sign-in")
    page.type("Email", forgetful.email, form)
    page.type("Password", NEW_PASSWORD, form)
    page.press("Sign in", form)
    page.heading("My bookings")
    forgetful.refresh_from_db()
    assert forgetful.check_password(NEW_PASSWORD)
