"""A message is the exact text the patient reads (issue 16, item 1): SMS and email are plain
text, so nothing in them is HTML-escaped ("&amp;", "&#x27;"); the admin's preview shows that
same text, escaped once for its own page."""

from datetime import timedelta

import pytest
from django.test import Client

from accounts.permissions import sync_role_group
from appointments.services import book_appointment
from notifications import services
from notifications.models import Kind, MessageTemplate, OutboxMessage
from tests.factories import UserFactory
from tests.fixtures.clinic import TODAY, at

pytestmark = pytest.mark.django_db

CLINIC = "The Back Pain & Sciatica Clinic"
WORDS = "{{ patient }} at {{ location }}, {{ address }} — {{ clinic }}"


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def plain_templates():
    """Both channels' confirmations say the same few variables, nothing else."""
    MessageTemplate.objects.filter(kind=Kind.CONFIRMATION).update(subject=WORDS, body=WORDS)


@pytest.mark.parametrize(
    "first_name",
    ["James O'Connor", 'Jo "JJ"', "<Al> & Co", "Zoë", "José", "李", "Nguyễn Thị Hồng"],
)
def test_the_message_sent_is_the_text_as_written(
    first_name, assessed_patient, assessment, myotherapist, location, plain_templates, settings
):
    settings.CLINIC_NAME = CLINIC
    location.name = "St Kilda's <Beach> Studio"
    location.address = '1 "The Esplanade" & Acland St'
    location.save()
    assessed_patient.first_name = first_name
    assessed_patient.consent_email = assessed_patient.consent_sms = True
    assessed_patient.save()
    book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=3), 10),
    )

    for pk in services.claim_due():
        services.deliver(pk)

    expected = (
        f'{first_name} at St Kilda\'s <Beach> Studio, 1 "The Esplanade" & Acland St — {CLINIC}'
    )
    sent = {message.channel: message for message in OutboxMessage.objects.all()}
    assert sent["sms"].body == expected
    assert sent["email"].body == expected
    assert sent["email"].subject == expected
    assert sent["email"].notification.body == expected  # the log keeps the same words


def test_the_preview_shows_the_stored_text_escaped_once_for_the_page(settings):
    settings.CLINIC_NAME = "O'Brien & Sons <Myotherapy>"
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")
    template.body = 'See you, "{{ clinic }}"'
    template.save()
    manager = UserFactory(is_staff=True)
    manager.groups.add(sync_role_group("Manager"))
    client = Client()
    client.force_login(manager)

    page = client.get(f"/admin/notifications/messagetemplate/{template.pk}/change/").text

    # The message reads `See you, "O'Brien & Sons <Myotherapy>"`; the page escapes it once,
    # so the browser shows those very characters.
    assert "See you, &quot;O&#x27;Brien &amp; Sons &lt;Myotherapy&gt;&quot;" in page
    assert "&amp;amp;" not in page and "&amp;#x27;" not in page
