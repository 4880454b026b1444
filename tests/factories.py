"""factory_boy factories, one per model the tests build."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from appointments.models import Appointment, Source, Status
from patients.models import Patient
from practice.models import (
    Discipline,
    Location,
    Practitioner,
    Room,
    RoomKind,
    Service,
    WorkingHours,
)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")
    # Verified, as every login was before verification existed: a test about an unverified
    # address says so (`email_verified_at=None`).
    email_verified_at = factory.LazyFunction(timezone.now)


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Location {n}")
    time_zone = "Australia/Melbourne"


class RoomFactory(DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")
    kind = RoomKind.TREATMENT
    capacity = 1


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    duration_minutes = 60
    buffer_after_minutes = 0
    price = Decimal("110.00")
    room_kind = RoomKind.TREATMENT
    disciplines = factory.LazyFunction(lambda: [Discipline.MYOTHERAPY])
    bookable_online = True
    is_assessment = False


class PractitionerFactory(DjangoModelFactory):
    class Meta:
        model = Practitioner

    user = factory.SubFactory(UserFactory, is_staff=True)
    title = "Myotherapist"
    disciplines = factory.LazyFunction(lambda: [Discipline.MYOTHERAPY])


class WorkingHoursFactory(DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = date(1985, 6, 15)
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    mobile = "+61412345678"


class AppointmentFactory(DjangoModelFactory):
    """An appointment written straight to the table (history, fixtures): no booking rules
    run, but the database constraints still do."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory)
    room = factory.SubFactory(RoomFactory, location=factory.SelfAttribute("..location"))
    start = factory.LazyFunction(lambda: datetime(2026, 1, 5, 23, tzinfo=UTC))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.service.duration_minutes))
    blocked_until = factory.LazyAttribute(
        lambda o: o.end + timedelta(minutes=o.service.buffer_after_minutes)
    )
    price = factory.SelfAttribute("service.price")
    status = Status.COMPLETED
    source = Source.RECEPTION
