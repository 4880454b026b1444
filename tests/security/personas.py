"""One small clinic, built once per test module, in which patient A owns one of every record
and six other callers each have a reason to want it.

The personas are the API's roles as the access rules distinguish them: nobody, A herself,
another patient, reception, the practitioner who treats A, a practitioner who does not,
and a manager. A's free-text fields carry markers no other row contains, so a response
that leaks A's data can be caught by its bytes whatever its status code.

The world is written inside a transaction that the module's teardown rolls back; each
test runs in a savepoint inside it (pytest-django's `db`), so what one test writes the
next never sees.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time, timedelta
from enum import StrEnum
from hashlib import sha256

import time_machine
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Model, Q
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from appointments.classes import book_place, schedule_class, schedule_class_series
from appointments.courses import CourseRule, book_course
from appointments.models import Appointment, ClassPlace, Course, GroupClass, Source, Status
from notifications.models import Channel, Kind, Notification
from patients.models import Patient
from practice.models import Discipline, Practitioner, Room, RoomKind, Service
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    RoomFactory,
    ServiceFactory,
    UserFactory,
)
from tests.fixtures.clinic import NOW, TODAY, at, work_every_day
from treatments.models import (
    Addendum,
    Exercise,
    HomeExercise,
    HomeExerciseLog,
    Intake,
    OutcomeMeasure,
    Phase,
    RedFlag,
    RedFlagClearance,
    TreatmentNote,
    TreatmentPlan,
)
from treatments.services import (
    add_addendum,
    create_plan,
    log_home_exercise,
    prescribe_home_exercise,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
)
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.offers import offer_by_hand
from waitlist.services import Wish, join_waitlist

PASSWORD = "correct horse battery staple"  # the factories' password


class Persona(StrEnum):
    ANONYMOUS = "anonymous"
    PATIENT_A = "patient_a"
    PATIENT_B = "patient_b"
    RECEPTION = "reception"
    PRACTITIONER = "practitioner"  # treats A
    OTHER_PRACTITIONER = "other_practitioner"  # does not treat A
    MANAGER = "manager"


PERSONAS = list(Persona)
STAFF = {Persona.RECEPTION, Persona.PRACTITIONER, Persona.OTHER_PRACTITIONER, Persona.MANAGER}


class DataKind(StrEnum):
    """What a piece of A's data is, which decides who may read it."""

    IDENTITY = "identity"  # name and contact details
    DESK = "desk"  # the front desk's note on a booking: staff only
    CLINICAL = "clinical"  # signed notes, plans, intake answers: A and her clinicians
    DRAFT = "draft"  # an unsigned note: her clinicians only, not yet A's record


A_SURNAME = "Quillfeather"
# Free text no other row of the world contains.
MARKERS: dict[str, DataKind] = {
    A_SURNAME: DataKind.IDENTITY,
    "alexa.qf@example.com": DataKind.IDENTITY,
    "+61400111222": DataKind.IDENTITY,
    "DESK-NOTE-7c1e": DataKind.DESK,
    "SIGNED-NOTE-a7f3": DataKind.CLINICAL,
    "ADDENDUM-5d2b": DataKind.CLINICAL,
    "PLAN-GOALS-d03e": DataKind.CLINICAL,
    "INTAKE-COMPLAINT-e55f": DataKind.CLINICAL,
    "DRAFT-NOTE-b91c": DataKind.DRAFT,
    "WAITLIST-NOTE-4e8a": DataKind.DESK,
    "HOME-EXERCISE-91ab": DataKind.CLINICAL,
    "EXERCISE-LOG-3c6d": DataKind.CLINICAL,
}

# Who may read which kinds of A's data (shared/API.md's roles; DOMAIN.md: reception does
# not read clinical notes; drafts are not part of the record until signed).
MAY_READ: dict[Persona, frozenset[DataKind]] = {
    Persona.ANONYMOUS: frozenset(),
    Persona.PATIENT_A: frozenset({DataKind.IDENTITY, DataKind.CLINICAL}),
    Persona.PATIENT_B: frozenset(),
    Persona.RECEPTION: frozenset({DataKind.IDENTITY, DataKind.DESK}),
    Persona.PRACTITIONER: frozenset(DataKind),
    Persona.OTHER_PRACTITIONER: frozenset(),
    Persona.MANAGER: frozenset(DataKind),
}
# Who may change A's records at all (the policy tables say which endpoint).
MAY_WRITE_FOR_A = {
    Persona.PATIENT_A,
    Persona.RECEPTION,
    Persona.PRACTITIONER,
    Persona.MANAGER,
}


def leaked_markers(persona: Persona, content: bytes) -> list[str]:
    """A's markers in `content` that `persona` may not read."""
    allowed = MAY_READ[persona]
    return [
        marker
        for marker, kind in MARKERS.items()
        if kind not in allowed and marker.encode() in content
    ]


@dataclass
class World:
    users: dict[Persona, User | None]
    patient_a: Patient
    patient_b: Patient
    practitioner: Practitioner
    other_practitioner: Practitioner
    myotherapy: Service
    assessment: Service
    elsewhere: Room  # a room at another location, which none of A's bookings uses
    future_visit: Appointment  # A's booking next Monday 11:00, with a desk note
    unwritten_session: Appointment  # A's session yesterday, no note yet
    b_assessment: Appointment  # B's, with the other practitioner
    b_intake: Intake
    signed_note: TreatmentNote
    draft_note: TreatmentNote
    plan: TreatmentPlan
    pain: OutcomeMeasure
    intake: Intake
    notification: Notification
    waitlist_entry: WaitlistEntry  # A's, open, for any practitioner, with a desk note
    waitlist_offer: WaitlistOffer  # a time offered to A's entry by the desk, live
    course: Course  # A's, two weekly visits with her practitioner, booked by reception
    course_visit: Appointment  # its first
    group_class: GroupClass  # coached by her practitioner, with A's place in it
    class_place: ClassPlace  # A's, booked by reception
    open_class: GroupClass  # the first of a series coached by her practitioner; no one in it
    home_exercise: HomeExercise  # of A's plan, since the day before yesterday
    home_exercise_log: HomeExerciseLog  # A's, of yesterday
    exercise: Exercise  # of the library, not in A's programme

    def client(self, persona: Persona) -> APIClient:
        client = APIClient()
        user = self.users[persona]
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
        return client


def build_world() -> World:
    location = LocationFactory(name="Richmond")
    rooms = [RoomFactory(location=location, name=f"Treatment {n}") for n in (1, 2)]
    assessment = ServiceFactory(
        name="Initial assessment",
        duration_minutes=60,
        is_assessment=True,
        disciplines=[Discipline.MYOTHERAPY],
    )
    myotherapy = ServiceFactory(name="Myotherapy 45", duration_minutes=45)
    practitioner_group = Group.objects.get_or_create(name="Practitioner")[0]
    practitioner = PractitionerFactory(user__first_name="Tess", user__last_name="Treating")
    other_practitioner = PractitionerFactory(user__first_name="Otto", user__last_name="Other")
    for each in (practitioner, other_practitioner):
        each.user.groups.add(practitioner_group)
        work_every_day(each, location)

    patient_a = PatientFactory(
        first_name="Alexa",
        last_name=A_SURNAME,
        email="alexa.qf@example.com",
        mobile="+61400111222",
        consent_email=True,
        user=UserFactory(email="alexa.qf@example.com", first_name="Alexa", last_name="Q"),
    )
    patient_b = PatientFactory(
        first_name="Bruno",
        last_name="Brightwater",
        email="bruno@example.com",
        mobile="+61400999888",
        user=UserFactory(email="bruno@example.com"),
    )

    # Booked by reception (or online): a booking someone else made is what puts a patient in
    # the practitioner's care (`patients.selectors.patients_in_care_of`).
    def visit(
        patient,
        with_,
        service,
        start,
        status=Status.COMPLETED,
        room=rooms[0],
        source=Source.RECEPTION,
        **extra,
    ):
        return AppointmentFactory(
            patient=patient,
            practitioner=with_,
            service=service,
            location=location,
            room=room,
            start=start,
            status=status,
            source=source,
            **extra,
        )

    visit(patient_a, practitioner, assessment, at(TODAY - timedelta(days=30), 10))
    b_assessment = visit(
        patient_b, other_practitioner, assessment, at(TODAY - timedelta(days=30), 10), room=rooms[1]
    )
    sessions = [
        visit(patient_a, practitioner, myotherapy, at(TODAY - timedelta(days=n), 10))
        for n in (3, 2, 1)
    ]
    future_visit = visit(
        patient_a,
        practitioner,
        myotherapy,
        at(TODAY + timedelta(days=7), 11),
        status=Status.BOOKED,
        source=Source.ONLINE,
        note="DESK-NOTE-7c1e: prefers the ground-floor room",
    )

    signed_note = start_note(appointment=sessions[0], author=practitioner)
    update_draft(
        note=signed_note,
        author=practitioner,
        changes={"subjective": "SIGNED-NOTE-a7f3 sharp pain down the left leg", "pain_score": 6},
    )
    signed_note = sign_note(note=signed_note, author=practitioner)
    add_addendum(note=signed_note, author=practitioner, text="ADDENDUM-5d2b: right leg, not left")
    draft_note = start_note(appointment=sessions[1], author=practitioner)
    draft_note = update_draft(
        note=draft_note, author=practitioner, changes={"assessment": "DRAFT-NOTE-b91c"}
    )
    plan = create_plan(
        patient=patient_a,
        practitioner=practitioner,
        goals="PLAN-GOALS-d03e: run a half marathon",
        phases=[{"phase": Phase.RELEASE, "planned_sessions": 4, "sessions_per_week": 1}],
    )
    home_exercise = prescribe_home_exercise(
        plan=plan,
        exercise=Exercise.objects.get(name="Bird dog"),
        by=practitioner.user,
        times_per_week=3,
        notes="HOME-EXERCISE-91ab: slowly",
        now=NOW - timedelta(days=2),
    )
    home_exercise_log = log_home_exercise(
        patient=patient_a,
        home_exercise=home_exercise,
        done_on=TODAY - timedelta(days=1),
        sets_done=3,
        reps_done=8,
        note="EXERCISE-LOG-3c6d: easier today",
    )
    pain = record_pain(patient=patient_a, score=7, by=practitioner.user)
    record_odi(patient=patient_a, answers=[2] * 10, by=practitioner.user)
    intake = submit_intake(
        patient=patient_a,
        answers={
            "complaint": "INTAKE-COMPLAINT-e55f",
            "pain_score": 7,
            "duration": "chronic",
            "activity": "new_runner",
            "red_flags": [RedFlag.SADDLE_NUMBNESS],
        },
        entered_by=patient_a.user,
    )
    notification = Notification.objects.create(
        kind=Kind.CONFIRMATION,
        channel=Channel.EMAIL,
        patient=patient_a,
        appointment=future_visit,
        reason_key=f"confirmation:{future_visit.pk}:email",
        due_at=NOW,
        recipient=patient_a.email,
        subject="Your booking",
        body=f"Hello Alexa {A_SURNAME}",
    )

    def staff(email: str, group: str) -> User:
        user = UserFactory(email=email, is_staff=True)
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    users: dict[Persona, User | None] = {
        Persona.ANONYMOUS: None,
        Persona.PATIENT_A: patient_a.user,
        Persona.PATIENT_B: patient_b.user,
        Persona.RECEPTION: staff("front@clinic.example", "Reception"),
        Persona.PRACTITIONER: practitioner.user,
        Persona.OTHER_PRACTITIONER: other_practitioner.user,
        Persona.MANAGER: staff("boss@clinic.example", "Manager"),
    }
    waitlist_entry = join_waitlist(
        patient=patient_a,
        service=myotherapy,
        wish=Wish(latest_date=TODAY + timedelta(days=30), note="WAITLIST-NOTE-4e8a: mornings"),
        by=users[Persona.RECEPTION],
    )
    waitlist_offer = offer_by_hand(
        entry=waitlist_entry,
        practitioner=practitioner,
        start=at(TODAY + timedelta(days=2), 15),
        by=users[Persona.RECEPTION],
    )
    booked_course = book_course(
        patient=patient_a,
        service=myotherapy,
        practitioner=practitioner,
        location=location,
        rule=CourseRule(first_date=TODAY + timedelta(days=14), at=time(9), visits=2),
        created_by=users[Persona.RECEPTION],
    )
    gym = RoomFactory(location=location, name="Gym", kind=RoomKind.GYM, capacity=3)
    group_release = ServiceFactory(name="Group release", room_kind=gym.kind)
    group_class = schedule_class(
        service=group_release,
        practitioner=practitioner,
        location=location,
        start=at(TODAY + timedelta(days=10), 14),
        capacity=4,
    )
    open_series = schedule_class_series(
        service=group_release,
        practitioner=practitioner,
        location=location,
        rule=CourseRule(first_date=TODAY + timedelta(days=11), at=time(14), visits=2),
        capacity=4,
    )
    return World(
        users=users,
        patient_a=patient_a,
        patient_b=patient_b,
        practitioner=practitioner,
        other_practitioner=other_practitioner,
        myotherapy=myotherapy,
        assessment=assessment,
        elsewhere=RoomFactory(location=LocationFactory(name="CBD"), name="Studio"),
        future_visit=future_visit,
        unwritten_session=sessions[2],
        b_assessment=b_assessment,
        b_intake=submit_intake(
            patient=patient_b,
            answers={
                "complaint": "Stiff hips",
                "pain_score": 3,
                "duration": "acute",
                "activity": "sedentary",
            },
            entered_by=patient_b.user,
        ),
        signed_note=signed_note,
        draft_note=draft_note,
        plan=plan,
        pain=pain,
        intake=intake,
        notification=notification,
        waitlist_entry=waitlist_entry,
        waitlist_offer=waitlist_offer,
        course=booked_course.course,
        course_visit=booked_course.booked[0],
        group_class=group_class,
        class_place=book_place(
            group_class=group_class, patient=patient_a, booked_by=users[Persona.RECEPTION]
        ),
        open_class=open_series.scheduled[0],
        home_exercise=home_exercise,
        home_exercise_log=home_exercise_log,
        exercise=Exercise.objects.get(name="Glute bridge"),
    )


def world_for_module(django_db_blocker) -> Iterator[World]:
    """The body of a module-scoped fixture: the world, on the frozen clock of
    tests/fixtures/clinic.py, rolled back when the module is done."""
    with (
        time_machine.travel(NOW, tick=False),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)


# --- what changed ------------------------------------------------------------------------

# The clinic's own data; the audit log (which records reads too) and Django's sessions and
# permissions are not what a refused request could corrupt.
WATCHED_APPS = [
    "accounts",
    "patients",
    "appointments",
    "treatments",
    "notifications",
    "practice",
    "waitlist",
]


def watched_models(app_labels=WATCHED_APPS, include_auto_created=False) -> list[type[Model]]:
    return [
        model
        for app_label in app_labels
        for model in apps.get_app_config(app_label).get_models(include_auto_created)
    ]


def database_fingerprint(models: list[type[Model]] | None = None) -> str:
    """A digest of every row of the clinic's tables (or of `models`'), in one query."""
    digests = ", ".join(
        f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
        f'FROM "{model._meta.db_table}" t)'
        for model in (watched_models() if models is None else models)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {digests}")
        return sha256(repr(cursor.fetchone()).encode()).hexdigest()


def rows_of_a(world: World) -> str:
    """A digest of every row that is patient A's."""
    a = world.patient_a
    mine = [
        Patient.objects.filter(pk=a.pk),
        User.objects.filter(pk=a.user_id),
        Appointment.objects.filter(patient=a),
        TreatmentNote.objects.filter(appointment__patient=a),
        Addendum.objects.filter(note__appointment__patient=a),
        TreatmentPlan.objects.filter(patient=a),
        OutcomeMeasure.objects.filter(patient=a),
        Intake.objects.filter(patient=a),
        RedFlagClearance.objects.filter(intake__patient=a),
        Notification.objects.filter(Q(patient=a) | Q(appointment__patient=a)),
        WaitlistEntry.objects.filter(patient=a),
        ClassPlace.objects.filter(patient=a),
        HomeExercise.objects.filter(plan__patient=a),
        HomeExerciseLog.objects.filter(patient=a),
    ]
    rows = [list(queryset.order_by("pk").values_list()) for queryset in mine]
    return sha256(repr(rows).encode()).hexdigest()
