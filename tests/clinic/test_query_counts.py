"""Every list endpoint of the API reads a fixed number of queries, whatever the number of rows
on the page: each is listed here (a new one fails `test_every_list_endpoint_is_measured`
until it is), with the caller who sees the rows and a way to add rows that it shows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver

from appointments.classes import book_place, schedule_class
from appointments.models import Source, Status
from clinic import api_v1
from notifications.models import Kind, Notification
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    ServiceFactory,
    WorkingHoursFactory,
)
from tests.fixtures.clinic import TODAY, at
from treatments.models import BodyRegion, Exercise, ExerciseCategory, TreatmentPlan
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
from waitlist.services import Wish, join_waitlist

pytestmark = pytest.mark.usefixtures("frozen_now", "fresh_throttles")

INTAKE = {
    "complaint": "Lower back pain radiating to the left leg",
    "symptom_locations": ["lower_back", "leg_left"],
    "sciatica_symptoms": ["pins_and_needles"],
    "pain_score": 7,
    "duration": "chronic",
    "activity": "new_runner",
    "goals": "Walk the dog again",
}


class Rows:
    """Adds `n` more rows of each kind for the measured caller to see."""

    def __init__(self, request):
        self.fixture = request.getfixturevalue
        self.added = 0

    def session(self, **extra):
        """A session of the patient in the practitioner's care, a day further back each time."""
        self.added += 1
        return AppointmentFactory(
            patient=self.fixture("assessed_patient"),
            practitioner=self.fixture("myotherapist"),
            service=self.fixture("myotherapy"),
            location=self.fixture("location"),
            room=self.fixture("treatment_rooms")[0],
            start=at(TODAY - timedelta(days=self.added), 9),
            **extra,
        )

    def practitioners(self, n):
        for _ in range(n):
            WorkingHoursFactory(practitioner=PractitionerFactory(), location=LocationFactory())

    def appointments(self, n):
        for _ in range(n):
            self.session(source=Source.RECEPTION, status=Status.COMPLETED)

    def notifications(self, n):
        patient = self.fixture("assessed_patient")
        for _ in range(n):
            appointment = self.session()
            Notification.objects.create(
                kind=Kind.CONFIRMATION,
                channel="email",
                patient=patient,
                appointment=appointment,
                reason_key=f"appointment:{appointment.pk}:confirmation:email",
                due_at=appointment.start - timedelta(days=2),
            )

    def notes(self, n):
        """Signed notes, each with five exercises, an addendum and an ODI."""
        practitioner = self.fixture("myotherapist")
        for _ in range(n):
            appointment = self.session()
            note = start_note(appointment=appointment, author=practitioner)
            update_draft(
                note=note,
                author=practitioner,
                changes={"pain_score": 4},
                exercises=[
                    {"exercise": f"Lift {i}", "sets": 3, "reps": 5, "effort": 7} for i in range(5)
                ],
            )
            add_addendum(
                note=sign_note(note=note, author=practitioner), author=practitioner, text="Later."
            )
            record_odi(
                patient=appointment.patient, answers=[1] * 10, by=None, appointment=appointment
            )

    def plans(self, n):
        for _ in range(n):
            TreatmentPlan.objects.create(
                patient=PatientFactory(), practitioner=self.fixture("myotherapist"), goals="x"
            )

    def waitlist(self, n):
        """Entries of new patients, each naming the myotherapist."""
        for _ in range(n):
            join_waitlist(
                patient=PatientFactory(),
                service=self.fixture("myotherapy"),
                by=self.fixture("reception"),
                wish=Wish(
                    latest_date=TODAY + timedelta(days=30),
                    practitioners=[self.fixture("myotherapist")],
                ),
            )

    def intakes(self, n):
        for _ in range(n):
            submit_intake(patient=self.fixture("assessed_patient"), answers=INTAKE, entered_by=None)

    def group_class(self):
        """A class of the coach's, a day further on each time."""
        self.added += 1
        return schedule_class(
            service=self.fixture("nmpt_group"),
            practitioner=self.fixture("coach"),
            location=self.fixture("location"),
            start=at(TODAY + timedelta(days=self.added), 10),
            capacity=20,
        )

    def classes(self, n):
        for _ in range(n):
            book_place(group_class=self.group_class(), patient=self.fixture("assessed_patient"))

    def class_places(self, n):
        group_class = self.group_class()
        for _ in range(n):
            book_place(group_class=group_class, patient=self.fixture("assessed_patient"))
            group_class = self.group_class()

    def exercises(self, n):
        for _ in range(n):
            self.added += 1
            yield Exercise.objects.create(
                name=f"Exercise {self.added}",
                instructions="Slowly.",
                category=ExerciseCategory.STABILITY,
                body_region=BodyRegion.CORE,
            )

    def library(self, n):
        list(self.exercises(n))

    def home_exercises(self, n):
        """Exercises prescribed to the patient, each logged today."""
        patient = self.fixture("assessed_patient")
        practitioner = self.fixture("myotherapist")
        plan = TreatmentPlan.objects.filter(patient=patient).first() or create_plan(
            patient=patient, practitioner=practitioner, goals="Stay well", phases=[]
        )
        for exercise in self.exercises(n):
            prescribed = prescribe_home_exercise(
                plan=plan, exercise=exercise, by=practitioner.user, times_per_week=3
            )
            log_home_exercise(
                patient=patient, home_exercise=prescribed, done_on=TODAY, sets_done=3, reps_done=8
            )


# path → (caller, how to add rows it sees)
LIST_ENDPOINTS = {
    "/api/v1/locations/": ("anonymous", lambda rows, n: LocationFactory.create_batch(n)),
    "/api/v1/services/": ("anonymous", lambda rows, n: ServiceFactory.create_batch(n)),
    "/api/v1/practitioners/": ("anonymous", Rows.practitioners),
    "/api/v1/patients/": ("as_reception", lambda rows, n: PatientFactory.create_batch(n)),
    "/api/v1/appointments/": ("as_practitioner", Rows.appointments),
    "/api/v1/notifications/": ("as_reception", Rows.notifications),
    "/api/v1/treatment-notes/": ("as_practitioner", Rows.notes),
    "/api/v1/treatment-plans/": ("as_manager", Rows.plans),
    "/api/v1/outcome-measures/": ("as_practitioner", Rows.notes),
    "/api/v1/intakes/": ("as_practitioner", Rows.intakes),
    "/api/v1/waitlist/": ("as_reception", Rows.waitlist),
    "/api/v1/classes/": ("anonymous", Rows.classes),
    "/api/v1/class-places/": ("as_reception", Rows.class_places),
    "/api/v1/exercises/": ("as_practitioner", Rows.library),
    "/api/v1/home-exercises/": ("as_practitioner", Rows.home_exercises),
    "/api/v1/home-exercise-logs/": ("as_practitioner", Rows.home_exercises),
}
# The same lists as others see them (a patient's own appointments, a manager's notes).
OTHER_CALLERS = [
    ("/api/v1/appointments/", "as_patient", Rows.appointments),
    ("/api/v1/appointments/", "as_reception", Rows.appointments),
    ("/api/v1/treatment-notes/", "as_manager", Rows.notes),
]


def test_every_list_endpoint_is_measured():
    lists = {
        f"/api/v1/{prefix}/"
        for prefix, viewset, _ in api_v1.router.registry
        if hasattr(viewset, "list")
    }
    assert lists == set(LIST_ENDPOINTS)
    assert all(get_resolver().resolve(path) for path in lists)


@pytest.mark.parametrize(
    ("path", "client_name", "add_rows"),
    [(path, *caller) for path, caller in LIST_ENDPOINTS.items()] + OTHER_CALLERS,
    ids=[*LIST_ENDPOINTS, *(f"{path} {caller}" for path, caller, _ in OTHER_CALLERS)],
)
@pytest.mark.django_db
def test_list_queries_do_not_grow_with_rows(request, path, client_name, add_rows):
    client = request.getfixturevalue(client_name)
    rows = Rows(request)

    def queries_and_count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": 100})
        assert response.status_code == 200, response.content
        return len(captured), response.json()["count"]

    add_rows(rows, 2)
    few_queries, few = queries_and_count()
    add_rows(rows, 15)
    many_queries, many = queries_and_count()

    assert few >= 2
    assert many >= few + 15
    assert many_queries == few_queries


def statements_of(client, path, params):
    """What one GET runs, each statement named by the table it reads (the first column it
    selects), counts or writes."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    names = []
    for query in captured:
        words = query["sql"].split()
        if words[:2] == ["SELECT", "COUNT(*)"]:
            names.append("count " + words[5].strip('"'))
        elif words[0] == "INSERT":
            names.append("insert " + words[2].strip('"'))
        else:
            names.append(words[1].split(".")[0].strip('"'))
    return names


@pytest.mark.parametrize(
    ("page_size", "counted"),
    [(100, []), (5, ["count appointments_appointment"])],
    ids=["the whole list on a page", "a full page"],
)
@pytest.mark.django_db
def test_a_patients_appointments_cost_two_statements_and_a_count_past_a_page(
    request, as_patient, page_size, counted
):
    """The signed-in user with their roles, then the page's rows (a page that is not full
    tells the count)."""
    Rows(request).appointments(10)

    statements = statements_of(as_patient, "/api/v1/appointments/", {"page_size": page_size})

    assert statements == ["accounts_user", "appointments_appointment", *counted]


@pytest.mark.parametrize(
    ("page_size", "counted"),
    [(100, []), (5, ["count treatments_treatmentnote"])],
    ids=["the whole list on a page", "a full page"],
)
@pytest.mark.django_db
def test_a_practitioners_notes_cost_five_statements_and_a_count_past_a_page(
    request, as_practitioner, page_size, counted
):
    """The signed-in user with their roles, the page's notes, then their exercise logs and
    addenda, and the audit log's one INSERT for the notes shown."""
    Rows(request).notes(10)

    statements = statements_of(
        as_practitioner, "/api/v1/treatment-notes/", {"page_size": page_size}
    )

    assert statements == [
        "accounts_user",
        "treatments_treatmentnote",
        *counted,
        "treatments_exerciseentry",
        "treatments_addendum",
        "insert audit_auditentry",
    ]
