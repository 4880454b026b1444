"""The message log for staff, in the API and the admin; templates with a preview."""

from datetime import timedelta

import pytest
from django.test import Client

from accounts.permissions import sync_role_group
from appointments.services import book_appointment
from notifications import services
from notifications.models import MessageTemplate
from tests.factories import UserFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import TODAY, at

LOG = "/api/v1/notifications/"


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def sent(assessed_patient, assessment, myotherapist):
    assessed_patient.consent_email = True
    assessed_patient.save()
    book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=3), 10),
    )
    for pk in services.claim_due():
        services.deliver(pk)
    return assessed_patient


def staff(group: str) -> Client:
    user = UserFactory(email=f"{group.lower()}@clinic.example", is_staff=True)
    user.groups.add(sync_role_group(group))
    client = Client()
    client.force_login(user)
    return client


def test_reception_reads_the_log(sent):
    reception = UserFactory(email="front@clinic.example", is_staff=True)
    reception.groups.add(sync_role_group("Reception"))

    body = client_for(reception).get(LOG, {"status": "sent"}).json()

    assert body["count"] == 1
    [entry] = body["results"]
    assert (entry["kind"], entry["channel"], entry["status"]) == ("confirmation", "email", "sent")
    assert entry["patient"]["id"] == sent.pk and entry["attempts"] == 1


def test_patients_and_strangers_do_not(sent):
    sent.user = UserFactory(email="ari@example.com")
    sent.save()

    assert client_for(sent.user).get(LOG).status_code == 403
    assert client_for().get(LOG).status_code == 401


def test_the_admin_log_is_read_only_for_reception(sent):
    reception = staff("Reception")

    page = reception.get("/admin/notifications/notification/")

    assert page.status_code == 200 and "Booking confirmation" in page.content.decode()
    assert reception.get("/admin/notifications/messagetemplate/").status_code == 403


def test_the_admin_log_shows_a_practitioner_only_the_patients_they_treat(
    sent, myotherapist, second_myotherapist
):
    def log_as(practitioner):
        practitioner.user.groups.add(sync_role_group("Practitioner"))
        practitioner.user.is_staff = True
        practitioner.user.save()
        client = Client()
        client.force_login(practitioner.user)
        return client.get("/admin/notifications/notification/").context["cl"].result_list

    assert {n.patient for n in log_as(myotherapist)} == {sent}  # the booking's practitioner
    assert list(log_as(second_myotherapist)) == []


def test_managers_preview_and_edit_templates(db):
    manager = staff("Manager")
    template = MessageTemplate.objects.get(kind="reminder", channel="sms")
    url = f"/admin/notifications/messagetemplate/{template.pk}/change/"

    preview = manager.get(url).content.decode()
    broken = manager.post(
        url, {"kind": "reminder", "channel": "sms", "subject": "", "body": "{% if %}"}
    )

    assert "Mia Myo, Tuesday 01 December at 09:00, Richmond" in preview
    assert broken.status_code == 200 and "does not read" in broken.content.decode()
    template.refresh_from_db()
    assert "{% if %}" not in template.body
