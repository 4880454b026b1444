"""Who sees whose records is decided in the selectors (`*/selectors.py`), and only there:
the API modules never query patient data themselves, and each selector gives each persona
what the access rules say."""

import ast
import importlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import ForeignKey, Model, OneToOneField

from appointments.models import CANCELLED_STATUSES, Appointment, Source, Status
from care.selectors import patients_for
from care.services import assign_care
from notifications.selectors import notifications_for
from patients.models import Patient
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import NOW, TODAY, at
from tests.security.personas import Persona, world_for_module
from treatments.selectors import (
    clinical_patients_for,
    intakes_for,
    notes_for,
    outcomes_for,
    plans_for,
    sessions_to_write_up_for,
)
from waitlist.selectors import entries_for

LOG = "/api/v1/notifications/"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_for_module(django_db_blocker)


def holds_patient_data(model: type[Model], hops: int = 3) -> bool:
    """The model is a patient, or points at one within a few foreign keys (an appointment,
    a note of an appointment, an addendum of a note...)."""
    if model is Patient:
        return True
    return hops > 0 and any(
        holds_patient_data(field.related_model, hops - 1)
        for field in model._meta.get_fields()
        if isinstance(field, ForeignKey | OneToOneField) and field.concrete
    )


def direct_queries(module_name: str) -> list[str]:
    """`Model.objects` of a model holding patient data, anywhere in the module."""
    module = importlib.import_module(module_name)
    tree = ast.parse(Path(module.__file__).read_text())
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"objects", "_default_manager"}
            and isinstance(node.value, ast.Name)
        ):
            model = getattr(module, node.value.id, None)
            if isinstance(model, type) and issubclass(model, Model) and holds_patient_data(model):
                found.append(f"{module_name}:{node.lineno} {node.value.id}.{node.attr}")
    return found


def api_modules() -> list[str]:
    """Each app's `api` module, or each module of its `api` package."""
    base = Path(settings.BASE_DIR)
    found = []
    for config in apps.get_app_configs():
        app = Path(config.path)
        if not app.is_relative_to(base):
            continue
        if (app / "api.py").exists():
            found.append(f"{config.name}.api")
        found += [f"{config.name}.api.{module.stem}" for module in sorted(app.glob("api/*.py"))]
    return found


def test_the_api_modules_read_patient_data_only_through_selectors():
    assert "diary.api" in api_modules() and "treatments.api.notes" in api_modules()
    assert [query for name in api_modules() for query in direct_queries(name)] == []


def test_the_check_knows_patient_data_when_it_sees_it():
    assert holds_patient_data(Appointment) and holds_patient_data(Patient)
    assert direct_queries("records.admin")  # the admin builds forms on Patient.objects


# --- the message log ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "sees_a"),
    [
        (Persona.RECEPTION, True),
        (Persona.MANAGER, True),
        (Persona.PRACTITIONER, True),
        (Persona.OTHER_PRACTITIONER, False),
        (Persona.PATIENT_A, False),
        (Persona.ANONYMOUS, False),
    ],
)
def test_a_practitioner_reads_only_the_messages_of_patients_they_treat(db, world, persona, sees_a):
    user = world.users[persona] or AnonymousUser()

    assert notifications_for(user).filter(pk=world.notification.pk).exists() is sees_a


@pytest.mark.parametrize(
    ("field", "whose"),
    [
        ("patient", "A's"),
        ("patient", "nobody's"),
        ("appointment", "A's"),
        ("appointment", "nobody's"),
    ],
)
def test_the_log_filters_do_not_tell_a_hidden_record_from_a_missing_one(db, world, field, whose):
    """Model-choice filters answered 400 for an id that does not exist and 200 for one the
    caller may not see."""
    ids = {"patient": world.patient_a.pk, "appointment": world.future_visit.pk}
    record_id = ids[field] if whose == "A's" else 999_999

    response = world.client(Persona.OTHER_PRACTITIONER).get(f"{LOG}?{field}={record_id}")

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_reception_filters_the_log_by_patient(db, world):
    response = world.client(Persona.RECEPTION).get(f"{LOG}?patient={world.patient_a.pk}")

    listed = {entry["id"] for entry in response.json()["results"]}
    assert world.notification.pk in listed
    assert listed == set(world.patient_a.notifications.values_list("pk", flat=True))


# --- notes ---------------------------------------------------------------------------------


def test_a_note_is_started_only_for_a_session_of_ones_own(db, world):
    practitioners = {
        persona: set(sessions_to_write_up_for(world.users[persona]))
        for persona in (Persona.PRACTITIONER, Persona.OTHER_PRACTITIONER, Persona.MANAGER)
    }

    assert world.unwritten_session in practitioners[Persona.PRACTITIONER]
    assert world.unwritten_session not in practitioners[Persona.OTHER_PRACTITIONER]
    assert practitioners[Persona.MANAGER] == set()


# --- who a practitioner treats -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "treats"),
    [
        (Status.CANCELLED, False),
        (Status.LATE_CANCELLED, False),
        (Status.BOOKED, True),
        (Status.NO_SHOW, True),
    ],
)
def test_a_cancelled_booking_opens_no_records(db, world, status, treats):
    """B booked with A's practitioner: a booking gives him B's details and records before
    the first session, a cancelled one gives him nothing."""
    AppointmentFactory(
        patient=world.patient_b,
        practitioner=world.practitioner,
        service=world.myotherapy,
        location=world.future_visit.location,
        room=world.future_visit.room,
        start=at(TODAY + timedelta(days=3), 15),
        status=status,
        cancelled_at=NOW if status in CANCELLED_STATUSES else None,
    )
    practitioner = world.client(Persona.PRACTITIONER)

    patient = practitioner.get(f"/api/v1/patients/{world.patient_b.pk}/")
    intakes = practitioner.get(f"/api/v1/intakes/?patient={world.patient_b.pk}")

    assert patient.status_code == (200 if treats else 404)
    assert intakes.json()["count"] == (1 if treats else 0)


# --- every selector follows the one care relationship --------------------------------------

SCOPED_TO_CARE = {
    "patients_for": lambda user, w: patients_for(user).filter(pk=w.patient_a.pk),
    "clinical_patients_for": lambda user, w: clinical_patients_for(user).filter(pk=w.patient_a.pk),
    "notes_for": lambda user, w: notes_for(user).filter(patient=w.patient_a),
    "plans_for": lambda user, w: plans_for(user).filter(patient=w.patient_a),
    "outcomes_for": lambda user, w: outcomes_for(user).filter(patient=w.patient_a),
    "intakes_for": lambda user, w: intakes_for(user).filter(patient=w.patient_a),
    "notifications_for": lambda user, w: notifications_for(user).filter(patient=w.patient_a),
    "entries_for": lambda user, w: entries_for(user).filter(patient=w.patient_a),
}


@pytest.mark.parametrize("selector", SCOPED_TO_CARE)
def test_every_selector_opens_a_patient_only_through_a_care_relationship(db, world, selector):
    """The other practitioner books A with himself: no selector gives him anything of A's;
    reception assigns A to him: every one does (`patients_in_care_of` decides for all)."""
    otto = world.users[Persona.OTHER_PRACTITIONER]
    AppointmentFactory(
        patient=world.patient_a,
        practitioner=world.other_practitioner,
        service=world.myotherapy,
        location=world.future_visit.location,
        room=world.future_visit.room,
        start=at(TODAY + timedelta(days=3), 15),
        status=Status.BOOKED,
        source=Source.PRACTITIONER,
        created_by=otto,
    )
    self_booked = SCOPED_TO_CARE[selector](otto, world).exists()

    assign_care(
        patient=world.patient_a,
        practitioner=world.other_practitioner,
        by=world.users[Persona.RECEPTION],
    )
    assigned = SCOPED_TO_CARE[selector](otto, world).exists()

    assert (self_booked, assigned) == (False, True)
