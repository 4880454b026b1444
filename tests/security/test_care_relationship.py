"""Who reads a patient's clinical records: a practitioner in whose care the patient is, by a
relationship the practitioner cannot grant themselves (issue 13, item 4).

- a booking with them that someone else made (the patient online, reception, a manager);
- an open care assignment made by reception or a manager;
- "break the glass": a stated reason, a few hours, in the audit log, reviewed by managers.

A booking the practitioner made themselves opens nothing, whichever role they booked in.
Each rule is checked through the doors that apply: the API with a token (JWT), the API with
the admin's session cookie, and the admin's pages; with a Manager who is not a superuser.
"""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from appointments.models import Source, Status
from audit.models import Action, AuditEntry
from care.selectors import is_in_care_of
from care.services import assign_care, break_glass, end_care_assignment
from kernel.errors import DomainError
from patients.models import BreakGlassAccess
from tests.factories import AppointmentFactory, PatientFactory
from tests.fixtures.clinic import NOW, TODAY, at
from tests.security.calls import NEXT_MONDAY
from tests.security.personas import Persona, World, world_for_module
from treatments.selectors import clinical_patients_for

REASON = "Covering for Tess: Alexa rang with new leg weakness"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_for_module(django_db_blocker)


@pytest.fixture
def otto(db, world: World):
    """The other practitioner, who has no care relationship with patient A, as staff: a
    fresh object each test (the world's is the module's, and a user object keeps the roles
    worked out for it, e.g. while a test had put him in Reception too)."""
    user = type(world.other_practitioner.user).objects.get(pk=world.other_practitioner.user_id)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def jwt(world: World, persona: Persona) -> APIClient:
    return world.client(persona)


def session(user) -> APIClient:
    """The API with the admin's session cookie (DRF's session authentication)."""
    client = APIClient()
    client.force_login(user)
    return client


def admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def otto_api_clients(world: World, otto) -> dict[str, APIClient]:
    return {"jwt": jwt(world, Persona.OTHER_PRACTITIONER), "session": session(otto)}


def a_booking_with_otto(world: World, *, source: str, created_by, status=Status.BOOKED, **extra):
    return AppointmentFactory(
        patient=world.patient_a,
        practitioner=world.other_practitioner,
        service=world.myotherapy,
        location=world.future_visit.location,
        room=world.future_visit.room,
        start=at(TODAY + timedelta(days=3), 15),
        status=status,
        source=source,
        created_by=created_by,
        **extra,
    )


def what_the_api_shows(client: APIClient, world: World, appointment=None) -> dict:
    """What of A's clinical record each API door answers."""
    a = world.patient_a.pk
    shown = {
        "patient": client.get(f"/api/v1/patients/{a}/").status_code,
        "progress": client.get(f"/api/v1/patients/{a}/progress/").status_code,
        "notes": client.get(f"/api/v1/treatment-notes/?patient={a}").json()["count"],
        "intakes": client.get(f"/api/v1/intakes/?patient={a}").json()["count"],
        "outcomes": client.get(f"/api/v1/outcome-measures/?patient={a}").json()["count"],
        "plans": client.get(f"/api/v1/treatment-plans/?patient={a}").json()["count"],
        "intake": client.get(f"/api/v1/intakes/{world.intake.pk}/").status_code,
    }
    if appointment is not None:
        answer = client.get(f"/api/v1/appointments/{appointment.pk}/").json()
        shown["red_flags"] = answer["red_flags"]
    return shown


NOTHING = {
    "patient": 404,
    "progress": 404,
    "notes": 0,
    "intakes": 0,
    "outcomes": 0,
    "plans": 0,
    "intake": 404,
}
EVERYTHING = {
    "patient": 200,
    "progress": 200,
    "notes": 2,  # the signed note and the draft
    "intakes": 1,
    "outcomes": 3,  # pain, ODI, and the signed note's pain score
    "plans": 1,
    "intake": 200,
}


# --- bookings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [Source.PRACTITIONER, Source.RECEPTION, Source.ONLINE],
    ids=["as-practitioner", "at-the-front-desk", "marked-online"],
)
@pytest.mark.parametrize("door", ["jwt", "session"])
def test_a_booking_the_practitioner_made_opens_no_records(db, world, otto, source, door):
    """Whatever the booking says its source was, Otto made it: it gives him nothing."""
    booking = a_booking_with_otto(world, source=source, created_by=otto)

    shown = what_the_api_shows(otto_api_clients(world, otto)[door], world, booking)

    assert shown == {**NOTHING, "red_flags": None}


@pytest.mark.parametrize("door", ["jwt", "session"])
def test_a_practitioner_who_also_works_the_desk_books_with_himself_in_vain(db, world, otto, door):
    """The door the review used: a practitioner in the Reception group too books patient A
    with himself through the API (201), and reads none of her records."""
    otto.groups.add(Group.objects.get(name="Reception"))
    client = otto_api_clients(world, otto)[door]

    booked = client.post(
        "/api/v1/appointments/",
        {
            "service": world.myotherapy.pk,
            "practitioner": world.other_practitioner.pk,
            "start": f"{NEXT_MONDAY.isoformat()}T14:00:00+11:00",
            "patient": world.patient_a.pk,
        },
        format="json",
    )

    assert booked.status_code == 201, booked.content
    assert booked.json()["red_flags"] is None
    notes = client.get(f"/api/v1/treatment-notes/?patient={world.patient_a.pk}").json()
    intakes = client.get(f"/api/v1/intakes/?patient={world.patient_a.pk}").json()
    assert (notes["count"], intakes["count"]) == (0, 0)
    assert not clinical_patients_for(otto).filter(pk=world.patient_a.pk).exists()


@pytest.mark.parametrize(
    ("source", "booker"),
    [(Source.RECEPTION, Persona.RECEPTION), (Source.ONLINE, Persona.PATIENT_A)],
    ids=["by-reception", "by-the-patient-online"],
)
@pytest.mark.parametrize("door", ["jwt", "session"])
def test_a_booking_someone_else_made_opens_the_records(db, world, otto, source, booker, door):
    booking = a_booking_with_otto(world, source=source, created_by=world.users[booker])

    shown = what_the_api_shows(otto_api_clients(world, otto)[door], world, booking)

    assert shown == {**EVERYTHING, "red_flags": ["saddle_numbness"]}


def test_a_cancelled_booking_someone_else_made_opens_nothing(db, world, otto):
    a_booking_with_otto(
        world,
        source=Source.RECEPTION,
        created_by=world.users[Persona.RECEPTION],
        status=Status.CANCELLED,
        cancelled_at=NOW,
    )

    assert not is_in_care_of(world.other_practitioner, world.patient_a)


def test_the_day_view_shows_red_flag_reasons_only_for_patients_in_care(db, world, otto):
    """Both of Otto's bookings with A (one his own) sit on his day; the reasons show once
    reception's booking puts her in his care."""
    otto.groups.add(Group.objects.get(name="Practitioner"))
    own = a_booking_with_otto(world, source=Source.PRACTITIONER, created_by=otto)
    day = reverse("admin:appointments_appointment_day")
    query = {"date": own.start.date().isoformat(), "location": own.location_id}

    before = admin(otto).get(day, query)
    AppointmentFactory(
        patient=world.patient_a,
        practitioner=world.other_practitioner,
        service=world.myotherapy,
        location=own.location,
        room=world.future_visit.room,
        start=own.start + timedelta(hours=1),
        status=Status.BOOKED,
        source=Source.RECEPTION,
        created_by=world.users[Persona.RECEPTION],
    )
    after = admin(otto).get(day, query)

    assert before.status_code == after.status_code == 200
    assert b"red flags" in before.content and b"Saddle numbness" not in before.content
    assert b"Saddle numbness" in after.content


# --- the admin -----------------------------------------------------------------------------


def admin_pages(world: World) -> dict[str, str]:
    a = world.patient_a.pk
    return {
        "notes": f"{reverse('admin:treatments_treatmentnote_changelist')}?patient={a}",
        "intakes": f"{reverse('admin:treatments_intake_changelist')}?patient={a}",
        "outcomes": f"{reverse('admin:treatments_outcomemeasure_changelist')}?patient={a}",
        "intake": reverse("admin:treatments_intake_change", args=[world.intake.pk]),
        "note": reverse("admin:treatments_treatmentnote_change", args=[world.signed_note.pk]),
    }


def test_the_admin_shows_a_self_booked_patient_nothing_clinical(db, world, otto):
    a_booking_with_otto(world, source=Source.PRACTITIONER, created_by=otto)
    client = admin(otto)

    page = client.get(reverse("admin:patients_patient_change", args=[world.patient_a.pk]))
    clinical = {name: client.get(url) for name, url in admin_pages(world).items()}

    assert page.status_code == 302
    assert page["Location"] == reverse(
        "admin:patients_patient_break_glass", args=[world.patient_a.pk]
    )
    for name in ("notes", "intakes", "outcomes"):  # (B's, whom he treats, may be listed)
        assert clinical[name].status_code == 200, name
        listed = clinical[name].context["cl"].result_list
        assert world.patient_a.pk not in {row.patient_id for row in listed}, name
    for name in ("intake", "note"):  # "does not exist": sent back to the admin's home
        assert clinical[name].status_code == 302, name
    assert b"INTAKE-COMPLAINT-e55f" not in b"".join(r.content for r in clinical.values())


def test_the_admin_shows_a_patient_booked_by_reception_everything(db, world, otto):
    a_booking_with_otto(world, source=Source.RECEPTION, created_by=world.users[Persona.RECEPTION])
    client = admin(otto)

    page = client.get(reverse("admin:patients_patient_change", args=[world.patient_a.pk]))
    intake = client.get(admin_pages(world)["intake"])

    assert page.status_code == 200
    assert page.context["clinical"] is not None
    assert page.context["red_flags"]["reasons"] == ["Saddle numbness"]
    assert intake.status_code == 200


# --- care assignments ----------------------------------------------------------------------


@pytest.mark.parametrize("assigner", [Persona.RECEPTION, Persona.MANAGER])
def test_an_assignment_by_reception_or_a_manager_opens_the_records(db, world, otto, assigner):
    assignment = assign_care(
        patient=world.patient_a, practitioner=world.other_practitioner, by=world.users[assigner]
    )

    opened = what_the_api_shows(jwt(world, Persona.OTHER_PRACTITIONER), world)
    end_care_assignment(assignment=assignment, by=world.users[Persona.RECEPTION])
    closed = what_the_api_shows(session(otto), world)

    assert opened == EVERYTHING
    assert closed == NOTHING


@pytest.mark.parametrize(
    ("by", "code"),
    [
        ("himself", "not_front_desk"),
        ("himself at the desk", "own_care_assignment"),
        ("another practitioner", "not_front_desk"),
    ],
)
def test_a_practitioner_cannot_assign_a_patient_to_himself(db, world, otto, by, code):
    assigner = world.practitioner.user if by == "another practitioner" else otto
    if by == "himself at the desk":
        otto.groups.add(Group.objects.get(name="Reception"))
        otto = type(otto).objects.get(pk=otto.pk)  # roles are worked out once per object
        assigner = otto

    with pytest.raises(DomainError) as refusal:
        assign_care(patient=world.patient_a, practitioner=world.other_practitioner, by=assigner)

    assert (refusal.value.code, refusal.value.status_code) == (code, 403)
    assert not is_in_care_of(world.other_practitioner, world.patient_a)


def test_reception_assigns_in_the_admin_and_the_practitioner_cannot(db, world, otto):
    reception = world.users[Persona.RECEPTION]
    reception.is_staff = True
    reception.save(update_fields=["is_staff"])
    add = reverse("admin:patients_careassignment_add")
    body = {"patient": world.patient_a.pk, "practitioner": world.other_practitioner.pk}

    refused = admin(otto).post(add, body)
    assigned = admin(reception).post(add, body)
    twice = admin(reception).post(add, body)

    assert refused.status_code == 403
    assert assigned.status_code == 302, assigned.content
    assert is_in_care_of(world.other_practitioner, world.patient_a)
    assert twice.status_code == 200
    assert twice.context["form"].non_field_errors() == [
        "This patient is already in this practitioner's care."
    ]
    assert (
        AuditEntry.objects.filter(
            action=Action.CREATE, object_type="patients.careassignment", patient=world.patient_a
        ).count()
        == 1
    )


# --- break the glass -----------------------------------------------------------------------


def break_glass_url(world: World) -> str:
    return f"/api/v1/patients/{world.patient_a.pk}/break-glass/"


@pytest.mark.parametrize("door", ["jwt", "session"])
def test_breaking_the_glass_opens_the_records_for_the_window_only(db, world, otto, door):
    def client() -> APIClient:  # signed in afresh: a token lasts minutes, not hours
        return otto_api_clients(world, otto)[door]

    before = what_the_api_shows(client(), world)
    broken = client().post(break_glass_url(world), {"reason": REASON}, format="json")
    during = what_the_api_shows(client(), world)
    with time_machine.travel(NOW + timedelta(hours=11, minutes=59), tick=False):
        still = what_the_api_shows(client(), world)["intakes"]
    with time_machine.travel(NOW + timedelta(hours=12, minutes=1), tick=False):
        after = what_the_api_shows(client(), world)

    assert before == NOTHING
    assert broken.status_code == 201, broken.content
    assert broken.json()["expires_at"].startswith((NOW + timedelta(hours=12)).date().isoformat())
    assert during == EVERYTHING
    assert still == 1
    assert after == NOTHING


def test_each_break_of_the_glass_is_audited(db, world, otto):
    jwt(world, Persona.OTHER_PRACTITIONER).post(
        break_glass_url(world), {"reason": f"  {REASON}  "}, format="json"
    )

    access = BreakGlassAccess.objects.get(patient=world.patient_a)
    entry = AuditEntry.objects.get(action=Action.BREAK_GLASS)
    assert (access.practitioner, access.reason) == (world.other_practitioner, REASON)
    assert (entry.actor, entry.patient, entry.actor_role) == (otto, world.patient_a, "practitioner")
    assert (entry.object_type, entry.object_id) == ("patients.breakglassaccess", str(access.pk))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE patients_breakglassaccess SET expires_at = expires_at + interval '1 year'",
        "UPDATE patients_breakglassaccess SET reason = 'nothing to see'",
        "DELETE FROM patients_breakglassaccess",
    ],
    ids=["extend", "reword", "remove"],
)
def test_a_break_of_the_glass_is_final_in_the_database(db, world, statement):
    """The manager reviews what was recorded: no code, and no raw SQL, extends a window,
    rewords the reason or removes the record."""
    access = break_glass(
        by=world.other_practitioner.user, patient=world.patient_a, reason=REASON, request=None
    )

    with (
        pytest.raises(IntegrityError, match="final"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    with pytest.raises(IntegrityError, match="final"), transaction.atomic():
        BreakGlassAccess.objects.filter(pk=access.pk).delete()
    assert BreakGlassAccess.objects.get(pk=access.pk).reason == REASON


@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "   "}, {"reason": "emergency"}, {"reason": "x" * 19}],
    ids=["no-reason", "empty", "blank", "one-word", "too-short"],
)
@pytest.mark.parametrize("door", ["jwt", "session"])
def test_no_glass_is_broken_without_a_reason(db, world, otto, body, door):
    response = otto_api_clients(world, otto)[door].post(break_glass_url(world), body, format="json")

    assert response.status_code == 400, response.content
    assert "reason" in response.json()["fields"]
    assert not BreakGlassAccess.objects.exists()
    assert not is_in_care_of(world.other_practitioner, world.patient_a)


@pytest.mark.parametrize(
    "persona", [Persona.RECEPTION, Persona.PATIENT_A, Persona.PATIENT_B, Persona.MANAGER]
)
def test_only_practitioners_break_the_glass(db, world, persona):
    response = jwt(world, persona).post(break_glass_url(world), {"reason": REASON}, format="json")

    assert response.status_code == 403
    assert not BreakGlassAccess.objects.exists()


def test_nor_does_reception_through_the_service(db, world):
    with pytest.raises(DomainError) as refusal:
        break_glass(patient=world.patient_a, by=world.users[Persona.RECEPTION], reason=REASON)

    assert refusal.value.code == "not_a_practitioner"


def test_a_practitioner_breaks_the_glass_on_the_patients_admin_page(db, world, otto):
    client = admin(otto)
    page = reverse("admin:patients_patient_change", args=[world.patient_a.pk])

    offered = client.get(page, follow=True)
    refused = client.post(
        reverse("admin:patients_patient_break_glass", args=[world.patient_a.pk]),
        {"reason": "urgent"},
    )
    broken = client.post(
        reverse("admin:patients_patient_break_glass", args=[world.patient_a.pk]),
        {"reason": REASON},
    )
    opened = client.get(page)

    assert offered.status_code == 200
    assert b"Break the glass" in offered.content
    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert broken.status_code == 302 and broken["Location"] == page
    assert opened.status_code == 200
    assert opened.context["red_flags"]["reasons"] == ["Saddle numbness"]
    assert AuditEntry.objects.filter(action=Action.BREAK_GLASS, actor=otto).count() == 1


def test_reception_gets_no_break_glass_page(db, world):
    reception = world.users[Persona.RECEPTION]
    reception.is_staff = True
    reception.save(update_fields=["is_staff"])

    response = admin(reception).get(
        reverse("admin:patients_patient_break_glass", args=[world.patient_a.pk])
    )

    assert response.status_code == 403


def test_the_manager_reviews_every_break_of_the_glass(db, world, otto):
    """A Manager-group member who is not a superuser sees them, in their own list and in the
    audit log filtered by action; reception and practitioners do not."""
    break_glass(patient=world.patient_a, by=otto, reason=REASON)
    manager = world.users[Persona.MANAGER]
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    reception = world.users[Persona.RECEPTION]
    reception.is_staff = True
    reception.save(update_fields=["is_staff"])
    review = reverse("admin:patients_breakglassaccess_changelist")
    log = f"{reverse('admin:audit_auditentry_changelist')}?action=break_glass"

    listed = admin(manager).get(review)
    logged = admin(manager).get(log)

    assert not manager.is_superuser
    assert listed.status_code == 200
    assert [(a.practitioner, a.reason) for a in listed.context["cl"].result_list] == [
        (world.other_practitioner, REASON)
    ]
    assert logged.status_code == 200
    assert [e.actor for e in logged.context["cl"].result_list] == [otto]
    assert admin(reception).get(review).status_code == 403
    assert admin(otto).get(review).status_code == 403


def test_breaking_the_glass_for_a_patient_in_care_is_refused(db, world):
    response = jwt(world, Persona.PRACTITIONER).post(
        break_glass_url(world), {"reason": REASON}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "already_in_care"


# --- one query, whatever the number of patients --------------------------------------------


def test_the_lists_read_the_care_relationship_in_one_subquery(db, world, otto):
    """Patients in Otto's care by each of the three ways: the list's queries do not grow."""
    client = jwt(world, Persona.OTHER_PRACTITIONER)
    reception = world.users[Persona.RECEPTION]

    def three_more(hour: int) -> None:
        booked, assigned, glass = PatientFactory.create_batch(3)
        AppointmentFactory(
            patient=booked,
            practitioner=world.other_practitioner,
            service=world.myotherapy,
            location=world.future_visit.location,
            room=world.future_visit.room,
            start=at(TODAY + timedelta(days=4), hour),
            status=Status.BOOKED,
            created_by=reception,
        )
        assign_care(patient=assigned, practitioner=world.other_practitioner, by=reception)
        break_glass(patient=glass, by=otto, reason=REASON)

    def queries(path: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": 100})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    three_more(9)
    few = {path: queries(path) for path in ("/api/v1/patients/", "/api/v1/intakes/")}
    for hour in (10, 11, 12):
        three_more(hour)
    many = {path: queries(path) for path in few}

    assert many["/api/v1/patients/"] == (few["/api/v1/patients/"][0], 1 + 3 + 9)  # B, then 12
    assert many["/api/v1/intakes/"][0] == few["/api/v1/intakes/"][0]
