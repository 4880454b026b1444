from collections import defaultdict
from datetime import timedelta

import pytest
from django.db.models import Min
from django.utils import timezone

from appointments.availability import working_windows
from appointments.demo import seed_demo
from appointments.models import Appointment, Source, Status
from patients.models import Patient
from practice.models import (
    BookingRules,
    Break,
    Discipline,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    RoomKind,
    Service,
    WorkingHours,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_clinic")]

PAST_STATUSES = {Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCELLED}


def test_leaves_the_booking_rules_at_their_defaults():
    rules = BookingRules.current()
    assert (
        rules.slot_grid_minutes,
        rules.online_lead_time_minutes,
        rules.online_horizon_days,
        rules.cancellation_window_hours,
    ) == (15, 120, 56, 24)


def test_two_melbourne_locations_with_two_treatment_rooms_and_a_gym_for_three():
    locations = Location.objects.all()
    assert sorted(location.name for location in locations) == ["CBD", "Richmond"]
    for location in locations:
        assert location.time_zone == "Australia/Melbourne"
        assert location.address
        rooms = sorted((room.kind, room.capacity) for room in location.rooms.all())
        assert rooms == [(RoomKind.GYM, 3), (RoomKind.TREATMENT, 1), (RoomKind.TREATMENT, 1)]


def test_the_clinics_services():
    services = {service.name: service for service in Service.objects.all()}
    assert set(services) == {
        "Initial assessment",
        "Myotherapy — SMM (45 min)",
        "Myotherapy — SMM (60 min)",
        "NMPT session",
        "Sciatica specialist consultation",
        "Maintenance myotherapy",
    }
    assessment = services["Initial assessment"]
    assert assessment.is_assessment and assessment.duration_minutes == 60
    assert [s.name for s in services.values() if s.is_assessment] == ["Initial assessment"]
    assert services["NMPT session"].room_kind == RoomKind.GYM
    assert services["NMPT session"].disciplines == [Discipline.NMPT]
    assert Discipline.SCIATICA in services["Sciatica specialist consultation"].disciplines
    assert not services["Sciatica specialist consultation"].bookable_online
    for service in services.values():
        assert 0 <= service.buffer_after_minutes <= 15
        assert service.price > 0


def test_practitioners_cover_every_discipline_with_rotas_leave_and_extra_hours():
    practitioners = list(Practitioner.objects.select_related("user"))
    assert len(practitioners) >= 5
    assert {d for p in practitioners for d in p.disciplines} == set(Discipline.values)
    for practitioner in practitioners:
        assert practitioner.user.is_staff
        assert practitioner.user.email.endswith("@clinic.example")
        assert practitioner.user.get_full_name()
        assert practitioner.rota.exists()
    assert {line.location.name for line in WorkingHours.objects.select_related("location")} == {
        "CBD",
        "Richmond",
    }
    assert Break.objects.exists()
    assert Leave.objects.count() == 1
    assert ExtraHours.objects.count() == 1


def test_fifty_patients_with_australian_contact_details_and_mixed_consents():
    patients = list(Patient.objects.all())
    assert len(patients) == 50
    assert len({(p.first_name, p.last_name) for p in patients}) == 50
    for patient in patients:
        assert patient.email.endswith("@example.com")
        assert str(patient.mobile).startswith("+614")
        assert len(str(patient.mobile)) == 12
    assert {p.consent_email for p in patients} == {True, False}
    assert {p.consent_sms for p in patients} == {True, False}


def test_every_patient_has_past_and_future_appointments():
    now = timezone.now()
    for patient in Patient.objects.all():
        appointments = list(patient.appointments.all())
        past = [a for a in appointments if a.start < now]
        future = [a for a in appointments if a.start > now]
        assert past, patient
        assert future, patient
        assert {a.status for a in past} <= PAST_STATUSES
        assert {a.status for a in future} <= {Status.BOOKED, Status.CANCELLED}
        assert {a.source for a in future} == {Source.RECEPTION}
    assert Appointment.objects.filter(start__lt=now - timedelta(days=150)).exists()
    assert Appointment.objects.filter(start__gt=now + timedelta(days=14)).exists()
    assert not Appointment.objects.filter(start__gt=now + timedelta(days=29)).exists()
    assert Appointment.objects.filter(status=Status.NO_SHOW).exists()
    late = Appointment.objects.filter(status=Status.LATE_CANCELLED)
    assert late.exists()
    assert not late.filter(cancelled_at__isnull=True).exists()


def test_every_patients_first_appointment_is_a_completed_assessment():
    firsts = Patient.objects.annotate(first=Min("appointments__start"))
    for patient in firsts:
        first = patient.appointments.get(start=patient.first)
        assert first.service.is_assessment, patient
        assert first.status == Status.COMPLETED, patient


def test_appointments_obey_the_rota_rooms_grid_and_prices():
    appointments = list(
        Appointment.objects.select_related("service", "practitioner", "room", "location")
    )
    first_day = min(timezone.localdate(a.start) for a in appointments) - timedelta(days=1)
    last_day = max(timezone.localdate(a.start) for a in appointments) + timedelta(days=1)
    windows = defaultdict(list)
    for window in working_windows(
        Practitioner.objects.values_list("pk", flat=True), first_day, last_day
    ):
        windows[window.practitioner_id, window.location_id].append(window)
    leave = list(Leave.objects.all())
    for a in appointments:
        service = a.service
        assert a.end == a.start + service.duration
        assert a.blocked_until == a.end + service.buffer_after
        assert a.price == service.price
        assert a.room.location_id == a.location_id
        assert a.room.kind == service.room_kind
        assert 1 <= a.room_place <= a.room.capacity
        assert set(a.practitioner.disciplines) & set(service.disciplines)
        local = timezone.localtime(a.start, a.location.zone)
        assert local.minute % 15 == 0 and local.second == 0
        start, end = int(a.start.timestamp()), int(a.end.timestamp())
        assert any(
            w.start <= start and end <= w.end for w in windows[a.practitioner_id, a.location_id]
        ), a
        assert not any(
            off.practitioner_id == a.practitioner_id and off.start < a.end and a.start < off.end
            for off in leave
        ), a


def test_running_it_again_changes_nothing(demo_clinic):
    models = [Location, Room, Service, Practitioner, WorkingHours, Break, Leave, ExtraHours]
    models += [Patient, Appointment, BookingRules]

    def snapshot():
        return {
            "counts": {model.__name__: model.objects.count() for model in models},
            "appointments": list(
                Appointment.objects.order_by("pk").values_list(
                    "pk", "patient_id", "practitioner_id", "start", "status", "room_id"
                )
            ),
            "patients": list(Patient.objects.order_by("pk").values_list("pk", "updated_at")),
        }

    before = snapshot()
    again = seed_demo()
    assert again.created_appointments == 0
    assert snapshot() == before
    assert again.appointments == demo_clinic.appointments
    assert again.patients == 50
