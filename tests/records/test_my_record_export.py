import io
import re
from datetime import time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from appointments.models import Status
from audit.models import Action, AuditEntry
from notifications.models import Delivery, Kind, Notification, OutboxMessage
from tests.factories import AppointmentFactory
from tests.fixtures.api_clients import client_for
from tests.fixtures.clinic import NOW, TODAY, at
from treatments.models import Exercise
from treatments.services import (
    add_addendum,
    create_plan,
    log_home_exercise,
    prescribe_home_exercise,
    record_odi,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)
from waitlist.models import WaitlistEntry
from waitlist.services import Wish, join_waitlist

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

EXPORT = "/api/v1/patients/me/export/"


def completed_session(patient, practitioner, service, location, room, days_ago):
    return AppointmentFactory(
        patient=patient,
        practitioner=practitioner,
        service=service,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=days_ago), 14),
        status=Status.COMPLETED,
    )


@pytest.fixture
def record(assessed_patient, patient_user, myotherapist, myotherapy, location, treatment_rooms):
    """Ari's record: an intake, a signed note with an exercise and an addendum, a draft,
    and an ODI score."""
    submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "Sciatica on the left",
            "pain_score": 7,
            "duration": "chronic",
            "activity": "returning_runner",
            "red_flags": [],
        },
        entered_by=patient_user,
    )
    signed_session, draft_session = (
        completed_session(
            assessed_patient, myotherapist, myotherapy, location, treatment_rooms[0], days
        )
        for days in (14, 7)
    )
    note = start_note(appointment=signed_session, author=myotherapist)
    update_draft(
        note=note,
        author=myotherapist,
        changes={"subjective": "Better since last week", "pain_score": 4},
        exercises=[{"exercise": "Deadlift", "sets": 3, "reps": 5, "effort": 7, "guarded": True}],
    )
    note = sign_note(note=note, author=myotherapist)
    add_addendum(note=note, author=myotherapist, text="Load was 40 kg.")
    draft = start_note(appointment=draft_session, author=myotherapist)
    update_draft(note=draft, author=myotherapist, changes={"subjective": "Unfinished draft"})
    record_odi(patient=assessed_patient, answers=[2, 1, 3, 2, 1, 1, 0, None, 1, 3], by=None)


def test_a_patient_downloads_their_whole_record(as_patient, record, assessed_patient):
    body = as_patient.get(EXPORT).json()

    assert body["patient"]["id"] == assessed_patient.pk
    assert body["intakes"][0]["complaint"] == "Sciatica on the left"
    assert len(body["appointments"]) == 3  # the assessment and two sessions
    [note] = body["treatment_notes"]
    assert note["subjective"] == "Better since last week"
    assert note["exercises"][0]["exercise"] == "Deadlift" and note["exercises"][0]["guarded"]
    assert note["addenda"][0]["text"] == "Load was 40 kg."
    kinds = sorted((m["kind"], m["value"]) for m in body["outcome_measures"])
    assert kinds == [("odi", "31.1"), ("pain", "4.0")]


def test_drafts_are_not_part_of_the_record(as_patient, record):
    assert "Unfinished draft" not in as_patient.get(EXPORT).content.decode()


def test_only_ones_own_record(as_other_patient, record):
    body = as_other_patient.get(EXPORT).json()

    assert body["appointments"] == [] and body["treatment_notes"] == []
    assert "Sciatica" not in str(body)


def test_staff_and_strangers_have_no_export(as_reception, anonymous):
    assert as_reception.get(EXPORT).status_code == 403
    assert anonymous.get(EXPORT).status_code == 401


@pytest.mark.parametrize("chosen", ["json", "html", "pdf"])
def test_queries_do_not_grow_with_the_record(
    as_patient,
    record,
    assessed_patient,
    myotherapist,
    myotherapy,
    location,
    treatment_rooms,
    chosen,
):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert as_patient.get(EXPORT, {"format": chosen}).status_code == 200
        return len(captured)

    few = queries()
    for days in range(20, 30):
        session = completed_session(
            assessed_patient, myotherapist, myotherapy, location, treatment_rooms[0], days
        )
        note = start_note(appointment=session, author=myotherapist)
        update_draft(
            note=note,
            author=myotherapist,
            changes={"pain_score": 5},
            exercises=[{"exercise": "Squat", "sets": 3, "reps": 8, "effort": 6}] * 3,
        )
        note = sign_note(note=note, author=myotherapist)
        add_addendum(note=note, author=myotherapist, text="ok")

    assert queries() == few


@pytest.fixture
def reminder(assessed_patient):
    """A reminder sent by SMS, as the outbox kept it."""
    sent = Notification.objects.create(
        kind=Kind.REMINDER,
        channel="sms",
        patient=assessed_patient,
        reason_key=f"test-reminder-{assessed_patient.pk}",
        due_at=NOW - timedelta(days=2),
        status=Delivery.SENT,
        sent_at=NOW - timedelta(days=2),
    )
    OutboxMessage.objects.create(
        notification=sent,
        channel="sms",
        recipient="+61412345678",
        body="Hi Ari, see you Thursday at 10:00.",
    )
    return sent


def test_the_messages_sent_to_the_patient(as_patient, reminder):
    [message] = as_patient.get(EXPORT).json()["messages"]

    assert (message["kind"], message["channel"], message["status"]) == ("reminder", "sms", "sent")
    assert message["body"] == "Hi Ari, see you Thursday at 10:00."
    assert message["sent_at"] is not None


def test_who_accessed_the_record_by_name_and_role(as_patient, as_practitioner, record):
    as_practitioner.get("/api/v1/treatment-notes/")

    history = as_patient.get(EXPORT).json()["access_history"]

    practitioner_reads = [h for h in history if h["role"] == "practitioner"]
    assert {(h["who"], h["action"], h["record"]) for h in practitioner_reads} == {
        ("Mia Myo", "read", "treatment note")
    }
    assert all(h["from"] == "127.0.0.1" for h in practitioner_reads)
    assert "@" not in str(practitioner_reads)  # staff are named, not identified by login
    assert history[-1]["action"] == "export"  # this very export


@pytest.mark.parametrize("format_", ["json", "html", "pdf"])
def test_staff_without_a_name_are_named_by_role_never_by_login(
    as_patient, record, assessed_patient, reception, format_
):
    """A member of staff with no name on their login showed up by their login email."""
    reception.first_name = reception.last_name = ""
    reception.save(update_fields=["first_name", "last_name"])
    client_for(reception).get(f"/api/v1/patients/{assessed_patient.pk}/")

    response = as_patient.get(EXPORT, {"format": format_})

    assert response.status_code == 200
    assert reception.email.encode() not in _text_of(response)
    if format_ == "json":
        reads = [h for h in response.json()["access_history"] if h["role"] == "reception"]
        assert [h["who"] for h in reads] == ["Reception staff"]
    else:
        assert b"Reception staff" in _text_of(response)


def _text_of(response) -> bytes:
    if response["Content-Type"].startswith("application/pdf"):
        reader = PdfReader(io.BytesIO(response.content))
        return "".join(page.extract_text() for page in reader.pages).encode()
    return response.content


def test_every_export_is_audited(as_patient, assessed_patient, patient_user):
    as_patient.get(EXPORT, {"format": "pdf"})

    [entry] = AuditEntry.objects.filter(action=Action.EXPORT)
    assert (entry.patient, entry.actor, entry.detail["format"]) == (
        assessed_patient,
        patient_user,
        "pdf",
    )


def test_an_html_summary_to_download(as_patient, record, reminder):
    response = as_patient.get(EXPORT, {"format": "html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"] == 'attachment; filename="my-clinic-record.html"'
    page = response.content.decode()
    for shown in ("Ari Assessed", "Better since last week", "Load was 40 kg.", "see you Thursday"):
        assert shown in page
    assert "Unfinished draft" not in page


def test_the_summary_escapes_what_was_written(as_patient, assessed_patient, patient_user):
    submit_intake(
        patient=assessed_patient,
        answers={
            "complaint": "<script>alert(1)</script>",
            "pain_score": 3,
            "duration": "acute",
            "activity": "sedentary",
        },
        entered_by=patient_user,
    )

    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    assert "<script>" not in page and "&lt;script&gt;" in page


def test_a_pdf_summary_to_download(as_patient, record):
    response = as_patient.get(EXPORT, {"format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="my-clinic-record.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Ari Assessed" in text and "Better since last week" in text


def test_the_accept_header_chooses_too(as_patient):
    response = as_patient.get(EXPORT, HTTP_ACCEPT="application/pdf")

    assert response.content.startswith(b"%PDF")


def test_an_unknown_format_is_400_naming_it(as_patient):
    response = as_patient.get(EXPORT, {"format": "docx"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"format": ["One of: json, html, pdf."]}


@pytest.mark.parametrize("chosen", ["html", "pdf"])
def test_refusals_are_json_whatever_the_format(anonymous, chosen):
    response = anonymous.get(EXPORT, {"format": chosen})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_only_ones_own_summary(as_other_patient, record):
    page = as_other_patient.get(EXPORT, {"format": "html"}).content.decode()
    text = pdf_text(as_other_patient.get(EXPORT, {"format": "pdf"}).content)

    for summary in (page, text):
        assert "Bea" in summary
        assert "Sciatica on the left" not in summary and "Assessed" not in summary


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_is_a4(as_patient, record):
    """README: "an A4 PDF". Its MediaBox was written with commas, which readers cannot
    parse: they fell back to their default page, US Letter."""
    reader = PdfReader(io.BytesIO(as_patient.get(EXPORT, {"format": "pdf"}).content))

    assert {(round(page.mediabox.width), round(page.mediabox.height)) for page in reader.pages} == {
        (595, 842)
    }


def test_the_html_summary_prints_on_a4(as_patient, record):
    """Printed or saved as a PDF from the browser, the page is A4 like the PDF, not the
    browser's default (US Letter in many)."""
    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    assert "@page { size: A4;" in page


def test_the_access_history_names_the_fields_changed_as_people_do(as_patient):
    as_patient.patch("/api/v1/patients/me/", {"consent_sms": True}, format="json")

    json_history = as_patient.get(EXPORT).json()["access_history"]
    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    [change] = [h for h in json_history if h["action"] == "update"]
    assert change["fields"] == ["consent_sms", "consents_updated_at"]
    assert change["field_labels"] == ["SMS reminders", "Consents updated at"]
    assert "SMS reminders, Consents updated at" in page
    assert "consents_updated_at" not in page


def _moments(value) -> list[str]:
    """Every ISO date-time string in an answer."""
    if isinstance(value, dict):
        return [moment for item in value.values() for moment in _moments(item)]
    if isinstance(value, list):
        return [moment for item in value for moment in _moments(item)]
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        return [value]
    return []


def test_every_time_is_in_the_clinic_zone_and_says_so(as_patient, record, reminder):
    """The export mixed +11:00 (sessions) with +00:00 (everything else); the summary said no
    zone at all. NOW is in Melbourne's daylight time (AEDT, +11:00), as is every entry."""
    answer = as_patient.get(EXPORT).json()
    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    moments = _moments(answer)
    assert len(moments) > 10
    assert {moment[-6:] for moment in moments} == {"+11:00"}
    assert answer["time_zone"] == "Australia/Melbourne"
    assert answer["appointments"][0]["time_zone"] == "Australia/Melbourne"
    assert "Times are Australia/Melbourne time" in page
    times_shown = re.findall(r"\d{4},? \d\d:\d\d(?: [A-Z]{3,5})?", page)
    assert times_shown and all(shown.endswith(" AEDT") for shown in times_shown)


@pytest.fixture
def waiting(assessed_patient, myotherapy, myotherapist, patient_user):
    """The patient waits for an earlier Myotherapy 45 with their practitioner, Tuesday and
    Thursday mornings; the desk noted something about it."""
    return join_waitlist(
        patient=assessed_patient,
        service=myotherapy,
        wish=Wish(
            latest_date=TODAY + timedelta(days=30),
            practitioners=[myotherapist],
            weekdays=[1, 3],
            earliest_time=time(8),
            latest_time=time(12),
        ),
        by=patient_user,
    )


def test_the_waitlist_is_part_of_the_record(as_patient, waiting, myotherapist):
    """Right of access: what the patient asked to wait for is theirs to have, in the JSON
    and in the summary; the desk's note is the clinic's, as an appointment's is."""
    WaitlistEntry.objects.filter(pk=waiting.pk).update(note="Prefers mornings; call first")

    entries = as_patient.get(EXPORT).json()["waitlist"]
    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    assert entries == [
        {
            "service": "Myotherapy 45",
            "practitioners": [str(myotherapist)],
            "locations": [],
            "weekdays": [1, 3],
            "earliest_time": "08:00:00",
            "latest_time": "12:00:00",
            "earliest_date": None,
            "latest_date": (TODAY + timedelta(days=30)).isoformat(),
            "sooner_than_appointment": None,
            "urgent": False,
            "joined_at": NOW.isoformat(),
            "ended_at": None,
            "end_reason": None,
            "offers": [],
        }
    ]
    assert "Waitlist" in page and "Tuesday, Thursday" in page and "08:00 to 12:00" in page
    assert "call first" not in str(entries) + page


def test_the_times_offered_from_the_waitlist_are_part_of_the_record(
    as_patient, waiting, myotherapist, reception
):
    from waitlist.offers import offer_by_hand

    waiting.patient.consent_email = True
    waiting.patient.save()
    offer = offer_by_hand(
        entry=waiting,
        practitioner=myotherapist,
        start=at(TODAY + timedelta(days=1), 10),
        by=reception,
    )

    (entry,) = as_patient.get(EXPORT).json()["waitlist"]
    page = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    assert entry["offers"] == [
        {
            "start": "2027-03-23T10:00:00+11:00",
            "practitioner": str(myotherapist),
            "location": offer.location.name,
            "status": "offered",
            "sent_at": NOW.isoformat(),
            "expires_at": (NOW + timedelta(hours=2)).isoformat(),
            "ended_at": None,
            "appointment": None,
        }
    ]
    assert "Offered" in page


def test_the_home_programme_and_its_logs_are_part_of_the_record(
    as_patient, assessed_patient, myotherapist
):
    plan = create_plan(patient=assessed_patient, practitioner=myotherapist, goals="Run", phases=[])
    bridge = prescribe_home_exercise(
        plan=plan,
        exercise=Exercise.objects.get(name="Glute bridge"),
        by=myotherapist.user,
        times_per_week=3,
        notes="Slowly down",
    )
    log_home_exercise(
        patient=assessed_patient,
        home_exercise=bridge,
        done_on=TODAY,
        sets_done=3,
        reps_done=12,
        pain=2,
        note="Easy",
    )

    record = as_patient.get(EXPORT).json()
    summary = as_patient.get(EXPORT, {"format": "html"}).content.decode()

    [prescribed] = record["home_programme"]
    assert prescribed["exercise"] == "Glute bridge"
    assert (prescribed["sets"], prescribed["reps"], prescribed["times_per_week"]) == (3, 12, 3)
    assert prescribed["notes"] == "Slowly down" and prescribed["stopped_on"] is None
    [log] = record["home_exercise_logs"]
    assert log["home_exercise"] == prescribed["id"]
    assert (log["done_on"], log["sets_done"], log["pain"], log["note"]) == (
        TODAY.isoformat(),
        3,
        2,
        "Easy",
    )
    assert "Home exercise programme" in summary and "Glute bridge" in summary
