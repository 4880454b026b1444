"""An appointment's answer is written by hand (`AppointmentSerializer.to_representation`,
from a row): it says exactly what DRF's walk over the serializer's fields said before, to
each role, in lists and single answers alike. `PreviousAppointmentSerializer` is that
serializer as it was, kept here as the oracle (with the clash flags, the patient's
confirmation, and the STarT Back risk, re-screen and due measures added since)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.roles import is_staff_member
from appointments.clashes import clashes_among
from appointments.models import UPCOMING_STATUSES, Appointment, Source, Status
from appointments.selectors import appointments_for
from kernel.rest import ModelSerializer, NamedSerializer, ZonedDateTimeField
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
)
from tests.fixtures.clinic import TODAY, at
from treatments.selectors import (
    clinical_patient_ids_among,
    latest_risk_by_patient,
    measure_schedules_among,
    measures_due_on,
    open_red_flags_by_patient,
    rescreen_due_among,
)
from treatments.services import clear_red_flags, submit_intake

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

APPOINTMENTS = "/api/v1/appointments/"


class PreviousAppointmentSerializer(ModelSerializer):
    patient = NamedSerializer(read_only=True)
    service = NamedSerializer(read_only=True)
    practitioner = NamedSerializer(read_only=True)
    location = NamedSerializer(read_only=True)
    room = serializers.CharField(source="room.name", read_only=True)
    start = ZonedDateTimeField(source="local_start", read_only=True)
    end = ZonedDateTimeField(source="local_end", read_only=True)
    note = serializers.SerializerMethodField()
    red_flag = serializers.SerializerMethodField()
    red_flags = serializers.SerializerMethodField()
    start_back_risk = serializers.SerializerMethodField()
    rescreen_due = serializers.SerializerMethodField()
    measures_due = serializers.SerializerMethodField()
    clash = serializers.SerializerMethodField()
    clash_decision = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = [
            "id",
            "patient",
            "service",
            "practitioner",
            "location",
            "room",
            "start",
            "end",
            "status",
            "source",
            "price",
            "note",
            "red_flag",
            "red_flags",
            "start_back_risk",
            "rescreen_due",
            "measures_due",
            "created_at",
            "rescheduled_at",
            "confirmed_at",
            "cancelled_at",
            "cancellation_reason",
            "clash",
            "clash_decision",
        ]
        read_only_fields = fields

    def get_note(self, appointment):
        return appointment.note if self.context.get("staff") else None

    def get_red_flag(self, appointment):
        if not self.context.get("staff"):
            return None
        return appointment.patient_id in self.context["red_flags"]

    def get_red_flags(self, appointment):
        if appointment.patient_id not in self.context.get("clinical_patients", ()):
            return None
        return self.context["red_flags"].get(appointment.patient_id, [])

    def _clinical(self, appointment) -> bool:
        return appointment.patient_id in self.context.get("clinical_patients", ())

    def get_start_back_risk(self, appointment):
        if not self._clinical(appointment):
            return None
        return self.context["risks"].get(appointment.patient_id)

    def get_rescreen_due(self, appointment):
        if not self._clinical(appointment):
            return None
        return appointment.patient_id in self.context["rescreen"]

    def get_measures_due(self, appointment):
        if not self._clinical(appointment):
            return None
        day = appointment.local_start.date()
        return measures_due_on(self.context["schedules"], appointment.patient_id, day)

    def get_clash(self, appointment):
        return self.context["clashes"].get(appointment.pk) if self.context.get("staff") else None

    def get_clash_decision(self, appointment):
        return appointment.clash_decision if self.context.get("staff") else None


def previous_answer(user, appointments):
    """What the API answered before, as JSON read back: the context as the view built it."""
    context = {"staff": is_staff_member(user)}
    if context["staff"]:
        patient_ids = {appointment.patient_id for appointment in appointments}
        context["red_flags"] = open_red_flags_by_patient(patient_ids)
        context["clinical_patients"] = clinical_patient_ids_among(user, patient_ids)
        context["risks"] = latest_risk_by_patient(context["clinical_patients"])
        context["rescreen"] = rescreen_due_among(context["clinical_patients"])
        context["schedules"] = measure_schedules_among(context["clinical_patients"])
        context["clashes"] = clashes_among(a for a in appointments if a.status in UPCOMING_STATUSES)
    data = PreviousAppointmentSerializer(appointments, many=True, context=context).data
    return json.loads(JSONRenderer().render(data))


RED_FLAGS = {
    "complaint": "Back pain",
    "pain_score": 8,
    "duration": "acute",
    "activity": "new_runner",
    "red_flags": ["saddle_numbness", "fever"],
}


@pytest.fixture
def diary(assessed_patient, patient_user, myotherapist, second_myotherapist, myotherapy, location):
    """Appointments of every kind the answer shows differently: a front-desk note, open and
    cleared red flags, a cancellation with its reason, a move, a practitioner known only by
    email, another location in another time zone, a price with cents."""
    perth = LocationFactory(name="Perth CBD", time_zone="Australia/Perth")
    perth_room = RoomFactory(location=perth, name="Room P")
    nameless = PractitionerFactory(
        user__first_name="", user__last_name="", user__email="locum@clinic.example"
    )
    other = PatientFactory(first_name="Bea", last_name="Other")
    room = location.rooms.first()
    AppointmentFactory(
        patient=assessed_patient,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=room,
        start=at(TODAY + timedelta(days=2), 10),
        status=Status.BOOKED,
        source=Source.ONLINE,
        note="Parking at the rear",
        price=Decimal("95.50"),
    )
    AppointmentFactory(
        patient=assessed_patient,
        practitioner=nameless,
        service=myotherapy,
        location=perth,
        room=perth_room,
        start=at(TODAY + timedelta(days=3), 14),
        status=Status.CANCELLED,
        cancelled_at=timezone.now(),
        cancellation_reason="Unwell",
        rescheduled_at=timezone.now() - timedelta(days=1),
    )
    AppointmentFactory(
        patient=other,
        practitioner=myotherapist,
        service=myotherapy,
        location=location,
        room=room,
        start=at(TODAY - timedelta(days=7), 9),
        note="Prefers mornings",
    )
    AppointmentFactory(
        patient=other,
        practitioner=second_myotherapist,
        service=myotherapy,
        location=perth,
        room=perth_room,
        start=at(TODAY + timedelta(days=1), 9),
        status=Status.BOOKED,
        price=Decimal("0.00"),
    )
    submit_intake(patient=assessed_patient, answers=RED_FLAGS, entered_by=None)
    cleared = submit_intake(patient=other, answers=RED_FLAGS, entered_by=None)
    clear_red_flags(
        intake=cleared, cleared_by=myotherapist.user, cleared_on=TODAY, note="Seen by GP"
    )


@pytest.mark.parametrize(
    ("client_name", "user_name"),
    [
        ("as_patient", "patient_user"),
        ("as_reception", "reception"),
        ("as_practitioner", "myotherapist"),
        ("as_manager", "manager"),
    ],
    ids=["patient", "reception", "practitioner", "manager"],
)
def test_every_role_gets_the_answers_it_got_before(request, diary, client_name, user_name):
    client = request.getfixturevalue(client_name)
    user = request.getfixturevalue(user_name)
    user = getattr(user, "user", user)  # the practitioner's login
    shown = list(appointments_for(user).order_by("start", "pk"))
    expected = previous_answer(user, shown)

    listed = client.get(APPOINTMENTS, {"page_size": 100}).json()
    one_by_one = [client.get(f"{APPOINTMENTS}{a.pk}/").json() for a in shown]

    assert len(shown) >= 2
    assert listed["results"] == expected
    assert one_by_one == expected


def test_the_answer_to_a_booking_and_a_move_is_the_one_it_was(
    as_reception, reception, assessed_patient, myotherapist, myotherapy
):
    booked = as_reception.post(
        APPOINTMENTS,
        {
            "service": myotherapy.pk,
            "practitioner": myotherapist.pk,
            "patient": assessed_patient.pk,
            "start": at(TODAY + timedelta(days=2), 11).isoformat(),
            "note": "First visit since the fall",
        },
    )
    appointment = Appointment.objects.get(pk=booked.json()["id"])
    assert booked.status_code == 201, booked.json()
    assert [booked.json()] == previous_answer(reception, [appointment])

    moved = as_reception.post(
        f"{APPOINTMENTS}{appointment.pk}/reschedule/",
        {"start": at(TODAY + timedelta(days=2), 13).isoformat()},
    )
    appointment.refresh_from_db()
    assert moved.status_code == 200, moved.json()
    assert [moved.json()] == previous_answer(reception, [appointment])

    cancelled = as_reception.post(
        f"{APPOINTMENTS}{appointment.pk}/cancel/", {"reason": "Car broke down"}
    )
    appointment.refresh_from_db()
    assert cancelled.status_code == 200, cancelled.json()
    assert [cancelled.json()] == previous_answer(reception, [appointment])


def test_a_patient_with_no_name_of_their_own_is_named_as_before(as_reception, reception, diary):
    appointment = Appointment.objects.filter(patient__first_name="Bea").first()
    appointment.patient.first_name = ""
    appointment.patient.save()

    answer = as_reception.get(f"{APPOINTMENTS}{appointment.pk}/").json()

    assert [answer] == previous_answer(reception, [appointment])
    assert answer["patient"]["name"] == " Other"
