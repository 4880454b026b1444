"""Message templates see plain strings, never the model graph (issue 13, item 9): what a
template may use is checked when it is saved, in the admin and by the model alike, again
before a message is sent, and the preview fills in the same context as a real message."""

import html
import importlib
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.permissions import sync_role_group
from appointments.services import book_appointment
from notifications import services
from notifications.models import Delivery, Kind, MessageTemplate, Notification, OutboxMessage
from tests.factories import UserFactory
from tests.fixtures.clinic import TODAY, at

DEFAULTS = importlib.import_module("notifications.migrations.0002_default_templates").TEMPLATES
pytestmark = pytest.mark.django_db
PASSWORD_HASH = "{{ appointment.practitioner.user.password }}"


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def manager() -> Client:
    """A Manager-group member who is not a superuser."""
    user = UserFactory(email="manager@clinic.example", is_staff=True)
    user.groups.add(sync_role_group("Manager"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def booked(assessed_patient, assessment, myotherapist, location):
    assessed_patient.consent_email = True
    assessed_patient.save()
    location.address = "12 Swan Street, Richmond VIC 3121"
    location.save()
    return book_appointment(
        patient=assessed_patient,
        service=assessment,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=3), 10),
    )


def sent_email() -> OutboxMessage:
    for pk in services.claim_due():
        services.deliver(pk)
    return OutboxMessage.objects.get(channel="email")


def edit(client: Client, template: MessageTemplate, **words):
    url = f"/admin/notifications/messagetemplate/{template.pk}/change/"
    data = {"kind": template.kind, "channel": template.channel, "subject": template.subject}
    return client.post(url, {**data, "body": template.body, **words})


def test_the_admin_refuses_a_template_that_reads_a_password_hash(manager):
    template = MessageTemplate.objects.get(kind=Kind.CONFIRMATION, channel="email")
    before = template.body

    answer = edit(manager, template, body=f"Hi {{{{ patient }}}} {PASSWORD_HASH}")

    assert answer.status_code == 200
    assert "Unknown variable {{ appointment.practitioner.user.password }}" in answer.text
    template.refresh_from_db()
    assert template.body == before


def test_a_template_stored_before_the_check_is_not_rendered(booked, myotherapist):
    """A row written around the check (raw SQL, an old release) fails to send rather than
    carrying the hash."""
    MessageTemplate.objects.filter(kind=Kind.CONFIRMATION, channel="email").update(
        body=f"Hi {{{{ patient }}}} {PASSWORD_HASH}"
    )

    for pk in services.claim_due():
        services.deliver(pk)

    email = Notification.objects.get(kind=Kind.CONFIRMATION, channel="email")
    assert email.status == Delivery.FAILED and "Unknown variable" in email.last_error
    assert myotherapist.user.password not in email.body
    assert not OutboxMessage.objects.filter(body__contains=myotherapist.user.password).exists()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{{ appointment }}", "Unknown variable {{ appointment }}"),
        ("{{ patient.user.password }}", "patient is plain text, it has nothing to look up"),
        ("{{ patient.__class__ }}", "does not read"),
        ("{{ practitioner.user }}", "practitioner is plain text"),
        ("{% if appointment.notes %}x{% endif %}", "Unknown variable {{ appointment.notes }}"),
        ("{% if not patient.user %}x{% endif %}", "patient is plain text"),
        ("{{ patient|default:appointment }}", "Unknown variable {{ appointment }}"),
        ("{% debug %}", "Invalid block tag on line 1: 'debug'"),
        ("{% load static %}", "Invalid block tag on line 1: 'load'"),
        ("{% include 'admin/base.html' %}", "Invalid block tag on line 1: 'include'"),
        ("{% for n in patient %}{{ n }}{% endfor %}", "Invalid block tag on line 1: 'for'"),
        ("{{ patient|safe }}", "Invalid filter: 'safe'"),
        ("{{ patient|pprint }}", "Invalid filter: 'pprint'"),
        ("{% if %}", "does not read"),
    ],
)
def test_what_a_template_may_not_use_is_refused_by_name(body, problem):
    template = MessageTemplate(kind=Kind.CONFIRMATION, channel="sms", body=body)

    with pytest.raises(ValidationError) as refusal:
        template.full_clean(validate_unique=False, validate_constraints=False)

    assert problem in " ".join(refusal.value.message_dict["body"])


def test_a_recall_has_no_appointment_to_speak_of():
    template = MessageTemplate(kind=Kind.RECALL, channel="sms", body="See you on {{ start }}")

    with pytest.raises(ValidationError) as refusal:
        template.full_clean(validate_unique=False, validate_constraints=False)

    assert "Unknown variable {{ start }}" in refusal.value.message_dict["body"][0]


def test_the_allowed_language_still_reads():
    body = (
        "{# a note for the manager #}Hi {{ patient|default:'there'|title }}, "
        "{% if address %}{{ location }}, {{ address }}{% else %}{{ location|upper }}{% endif %}"
        " on {{ start_date }} at {{ start_time }}. Move it: {{ manage_url }}"
    )

    MessageTemplate(kind=Kind.REMINDER, channel="sms", body=body).full_clean(
        validate_unique=False, validate_constraints=False
    )


@pytest.mark.parametrize("kind", list(DEFAULTS))
@pytest.mark.parametrize("channel", ["email", "sms"])
def test_the_default_templates_still_validate(kind, channel):
    MessageTemplate.objects.get(kind=kind, channel=channel).full_clean()


def test_the_default_confirmation_reads_as_before(booked):
    email = sent_email()

    assert email.subject == "Your appointment on Thursday 25 March at 10:00"
    assert email.body.startswith(
        "Hi Ari,\n\nYou are booked for Initial assessment with Mia Myo at Richmond "
        "(12 Swan Street, Richmond VIC 3121) on Thursday 25 March at 10:00. The calendar "
        "entry is attached.\n\nSee you soon,\nThe Back Pain & Sciatica Clinic"
    )


def test_a_practitioner_without_a_name_is_not_their_login(booked, myotherapist):
    myotherapist.user.first_name = myotherapist.user.last_name = ""
    myotherapist.user.save()

    email = sent_email()

    assert "with your practitioner at Richmond" in email.body
    assert myotherapist.user.email not in email.body


def test_the_preview_uses_the_message_context(manager):
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")
    edit(manager, template, body="{{ start_date }} / {{ start_time }} / {{ manage_url }}")

    page = manager.get(f"/admin/notifications/messagetemplate/{template.pk}/change/").text

    assert "Tuesday 01 December / 09:00 / https://clinic.example/my-appointments" in page


# --- preview before save, refusal by name (issue 16, item 7) ---------------------------


def preview(client: Client, template: MessageTemplate, **words):
    return edit(client, template, _preview="Preview", **words)


def test_the_preview_button_shows_the_unsaved_words_and_saves_nothing(manager):
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")
    before = (template.body, template.updated_at)

    answer = preview(manager, template, body="Hi {{ patient }}, {{ start_time }} at {{ location }}")

    assert answer.status_code == 200  # the page again, not a redirect after a save
    assert "Hi Alex, 09:00 at Richmond" in answer.text
    assert "Previewed, not saved" in answer.text
    template.refresh_from_db()
    assert (template.body, template.updated_at) == before
    assert not LogEntry.objects.exists()  # the admin's history records no change either


def test_the_change_form_offers_the_preview_button(manager):
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")

    page = manager.get(f"/admin/notifications/messagetemplate/{template.pk}/change/").text

    assert 'name="_preview"' in page


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("Hi {{ patien }}", "Unknown variable {{ patien }}: a appointment reminder may use"),
        ("Hi {{ patient }", "This template does not read"),
        ("{% if patient %}Hi", "This template does not read"),
    ],
)
@pytest.mark.parametrize("button", [{}, {"_preview": "Preview"}], ids=["save", "preview"])
def test_an_unknown_variable_or_broken_syntax_is_refused_by_name(manager, body, problem, button):
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")
    before = template.body

    answer = edit(manager, template, body=body, **button)

    assert answer.status_code == 200
    assert problem in html.unescape(answer.text)
    template.refresh_from_db()
    assert template.body == before


def test_a_preview_of_good_words_then_save_makes_them_live(manager):
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")
    words = "See you at {{ start_time }}, {{ patient }}"

    preview(manager, template, body=words)
    answer = edit(manager, template, body=words)

    assert answer.status_code == 302
    template.refresh_from_db()
    assert template.body == words


def test_the_preview_is_behind_the_same_door_as_a_save(reception_staff):
    """Reception may not change templates: previewing (a change POST) is refused the same."""
    template = MessageTemplate.objects.get(kind=Kind.REMINDER, channel="sms")

    answer = preview(reception_staff, template, body="{{ patient }}")

    assert answer.status_code == 403
    assert "Alex" not in answer.text
