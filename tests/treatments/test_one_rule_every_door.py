"""Each clinical rule has one definition, and every door asks it: these fail if the admin,
the API or the service went their own way.

- which sessions can carry a note: the service, the admin's "start a note" page, the API's
  note body and the appointment page's "Write note" link;
- which answer each kind of outcome measure takes and how it is scored: the admin's form
  and the API's body (the progress series is the patient page's, in
  tests/treatments/test_admin_patient_page.py).

The clinic's clock is frozen at Monday 22 March 2027, 08:00 in Melbourne.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from appointments.models import CANCELLED_STATUSES, Appointment, Status
from kernel.errors import DomainError
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import TODAY, at
from tests.treatments.multi_step_helpers import admin_client, jwt_client, member_of
from treatments.models import ODI_SECTIONS, OutcomeMeasure, TreatmentNote
from treatments.services import start_note

NOTES = "/api/v1/treatment-notes/"
OUTCOMES = "/api/v1/outcome-measures/"

# (days from today, hour, status): sessions of every kind, each on a slot of its own.
SESSIONS = {
    "a week ahead": (7, 10, Status.BOOKED),
    "later today": (0, 11, Status.BOOKED),
    "this morning, nobody checked in": (0, 7, Status.BOOKED),
    "checked in": (-1, 10, Status.CHECKED_IN),
    "completed": (-2, 10, Status.COMPLETED),
    "cancelled": (-3, 10, Status.CANCELLED),
    "cancelled late": (-4, 10, Status.LATE_CANCELLED),
    "a no-show": (-5, 10, Status.NO_SHOW),
}


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield


@pytest.fixture
def practitioner(myotherapist):
    return member_of("Practitioner", user=myotherapist.user)


@pytest.fixture
def sessions(assessed_patient, myotherapist, myotherapy, location, treatment_rooms):
    made = {}
    for name, (days, hour, status) in SESSIONS.items():
        session = AppointmentFactory(
            patient=assessed_patient,
            practitioner=myotherapist,
            service=myotherapy,
            location=location,
            room=treatment_rooms[0],
            start=at(TODAY + timedelta(days=days), hour),
            status=Status.BOOKED,
        )
        cancelled_at = timezone.now() if status in CANCELLED_STATUSES else None
        Appointment.objects.filter(pk=session.pk).update(status=status, cancelled_at=cancelled_at)
        session.refresh_from_db()
        made[name] = session
    return made


class _TriedOnly(Exception):
    """Rolls back a write that was only tried."""


def the_service_takes(session: Appointment) -> bool:
    try:
        with transaction.atomic():
            start_note(appointment=session, author=session.practitioner)
            raise _TriedOnly
    except _TriedOnly:
        return True
    except DomainError as refusal:
        assert refusal.code == "not_a_session"
        return False


def test_every_door_offers_a_note_for_the_sessions_the_service_takes(practitioner, sessions):
    taken = {name for name, session in sessions.items() if the_service_takes(session)}
    admin = admin_client(practitioner)
    offered = set(
        admin.get(reverse("admin:treatments_treatmentnote_add"))
        .context["form"]
        .fields["appointment"]
        .queryset
    )
    linked = {
        name
        for name, session in sessions.items()
        if admin.get(reverse("admin:appointments_appointment_change", args=[session.pk])).context[
            "note_link"
        ]
    }
    api = jwt_client(practitioner)
    accepted = {
        name
        for name, session in sessions.items()
        if api.post(NOTES, {"appointment": session.pk}).status_code == 201
    }

    assert taken == {"this morning, nobody checked in", "checked in", "completed"}
    assert {name for name, session in sessions.items() if session in offered} == taken
    assert linked == taken
    assert accepted == taken
    assert set(TreatmentNote.objects.values_list("appointment__pk", flat=True)) == {
        sessions[name].pk for name in taken
    }


# --- outcome measures: which answer each kind takes --------------------------------------

ODI_TWO_SKIPPED = [2, 1, 3, 2, 1, 1, 0, None, 1, None]  # 11 / 40 = 27.5 %
ODI_THREE_SKIPPED = [1, 1, 1, 1, 1, 1, 1, None, None, None]


@pytest.mark.parametrize(
    ("kind", "value", "odi_answers", "recorded"),
    [
        ("pain", 4, None, Decimal("4")),
        ("pain", None, None, None),
        ("pain", 4, ODI_TWO_SKIPPED, None),
        ("odi", None, ODI_TWO_SKIPPED, Decimal("27.5")),
        ("odi", None, None, None),
        ("odi", 4, ODI_TWO_SKIPPED, None),
        ("odi", None, ODI_THREE_SKIPPED, None),  # too few sections answered to score
    ],
)
def test_the_admin_and_the_api_take_the_same_answers_for_each_kind(
    practitioner, assessed_patient, kind, value, odi_answers, recorded
):
    body: dict = {"patient": assessed_patient.pk, "kind": kind}
    form = {**body, "recorded_at_0": TODAY.isoformat(), "recorded_at_1": "07:30"}
    if value is not None:
        body["value"] = value
        form["pain"] = str(value)
    if odi_answers is not None:
        body["odi_answers"] = odi_answers
        for section, answer in zip(ODI_SECTIONS, odi_answers, strict=True):
            form[f"odi_{section}"] = "" if answer is None else str(answer)

    api = jwt_client(practitioner).post(OUTCOMES, body)
    by_api = dict(OutcomeMeasure.objects.values_list("pk", "value"))
    admin = admin_client(practitioner).post(reverse("admin:treatments_outcomemeasure_add"), form)
    by_admin = list(OutcomeMeasure.objects.exclude(pk__in=by_api).values_list("value", flat=True))

    assert api.status_code == (201 if recorded is not None else 400), api.json()
    assert admin.status_code == (302 if recorded is not None else 200)
    assert list(by_api.values()) == by_admin == ([recorded] if recorded is not None else [])
