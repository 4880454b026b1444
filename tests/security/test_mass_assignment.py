"""No request body sets what its sender may not: on every write endpoint, the body a
persona entitled to it sends, plus every protected field (ids, the owner, the author,
statuses, signing, staff flags, timestamps), is either refused with a 400 that names a
protected field or stored as if the protected fields had not been sent.

The write endpoints and who may use them come from the URL configuration and the
authorization matrix's policy. What each one may set is `WRITABLE`, checked against the
request bodies of the OpenAPI schema, so that a field that becomes writable (a serializer
field losing `read_only`, a new field) is a decision someone takes here. A protected field
is every name of `protected_fields` that `WRITABLE` does not list; after the request, no
value the request wrote may be an injected one in the column of that name (`patient` or
`patient_id`, ...).
"""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils.dateparse import parse_datetime
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.links import Purpose, make_token
from accounts.models import User
from appointments.models import GroupClass
from tests.fixtures.clinic import NOW
from tests.security.calls import body_for, path_for, send
from tests.security.endpoints import api_endpoints, writable_fields
from tests.security.personas import (
    PASSWORD,
    PERSONAS,
    STAFF,
    Persona,
    World,
    watched_models,
    world_for_module,
)
from tests.security.test_authorization_matrix import expected_status
from treatments.models import PlanStatus, TreatmentPlan

A_LONG_TIME_AGO = "2001-02-03T04:05:06+00:00"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_for_module(django_db_blocker)


def protected_fields(w: World, writer: Persona) -> dict:
    """What a malicious body adds: another patient's ids (A's, when B writes), another
    practitioner as author, final statuses, signing, staff flags and dates of its own."""
    b_writes = writer == Persona.PATIENT_B
    victim = w.patient_a if b_writes else w.patient_b
    victims_visit = w.future_visit if b_writes else w.b_assessment
    # Someone other than the writer (the other practitioner breaks the glass himself).
    impostor = w.practitioner if writer == Persona.OTHER_PRACTITIONER else w.other_practitioner
    return {
        "id": 999_999,
        "pk": 999_999,
        "patient": victim.pk,
        "owner": victim.pk,
        "user": victim.user_id,
        "appointment": victims_visit.pk,
        "intake": (w.intake if b_writes else w.b_intake).pk,
        "note": w.draft_note.pk,
        "practitioner": impostor.pk,
        "author": impostor.pk,
        "signed_by": impostor.pk,
        "recorded_by": impostor.user_id,
        "entered_by": impostor.user_id,
        "cleared_by": impostor.user_id,
        "created_by": impostor.user_id,
        "updated_by": impostor.user_id,
        "cancelled_by": impostor.user_id,
        "service": w.assessment.pk,
        "location": w.elsewhere.location_id,
        "room": w.elsewhere.pk,
        "room_place": 3,
        "price": "0.01",
        "source": "online" if writer in STAFF else "reception",
        "status": "completed",
        "current_phase": "maintain",
        "is_signed": True,
        "signed_at": A_LONG_TIME_AGO,
        "created_at": A_LONG_TIME_AGO,
        "updated_at": A_LONG_TIME_AGO,
        "submitted_at": A_LONG_TIME_AGO,
        "recorded_at": A_LONG_TIME_AGO,
        "cancelled_at": A_LONG_TIME_AGO,
        "rescheduled_at": A_LONG_TIME_AGO,
        "checked_in_at": A_LONG_TIME_AGO,
        "completed_at": A_LONG_TIME_AGO,
        "confirmed_at": A_LONG_TIME_AGO,
        "confirmed_via": "sms_reply",
        "consents_updated_at": A_LONG_TIME_AGO,
        "maintenance_started_at": A_LONG_TIME_AGO,
        "blocked_until": A_LONG_TIME_AGO,
        "email": "hijack@example.com",
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "groups": [1, 2, 3],
        "user_permissions": [1, 2, 3],
        "archived": True,
        "is_archived": True,
        "archived_at": A_LONG_TIME_AGO,
    }


# A course asked for: the patient (staff name them), what, with whom, where, and its rule.
COURSE_RULE = {
    "patient",
    "service",
    "practitioner",
    "location",
    "first_date",
    "at",
    "weekdays",
    "every_weeks",
    "visits",
    "until",
}
# How often the plan has each questionnaire taken.
MEASURE_SCHEDULE = {"odi_every_weeks", "rmdq_every_weeks", "psfs_every_weeks"}
INTAKE_ANSWERS = {
    "complaint",
    "symptom_locations",
    "sciatica_symptoms",
    "pain_score",
    "duration",
    "activity",
    "goals",
    "red_flags",
    "start_back",  # the STarT Back screening answered with it
}
SOAP = {
    "subjective",
    "pain_score",
    "pain_locations",
    "posture_findings",
    "regions_treated",
    "objective",
    "assessment",
    "plan",
    "exercises",
}
WAITLIST_WISH = {
    "practitioners",
    "locations",
    "weekdays",
    "earliest_time",
    "latest_time",
    "earliest_date",
    "latest_date",
    "sooner_than",
    "urgent",
    "note",
}
# A home exercise's dose as prescribed; what the patient logs of it.
HOME_EXERCISE_DOSE = {"sets", "reps", "load_kg", "times_per_week", "notes"}
EXERCISE_LOG = {"sets_done", "reps_done", "pain", "note"}
# What a request may set, by endpoint: everything else is the server's to decide.
WRITABLE = {
    ("register", "POST"): {
        "email",
        "password",
        "first_name",
        "last_name",
        "phone",
        "date_of_birth",
        "consent_email",
        "consent_sms",
    },
    ("token", "POST"): {"email", "password", "code"},  # code: the two-factor code, if enrolled
    ("token-refresh", "POST"): {"refresh"},
    ("verify-email", "POST"): {"token"},
    ("verify-email-resend", "POST"): {"email"},
    ("password-reset", "POST"): {"email"},
    ("password-reset-confirm", "POST"): {"token", "password"},
    ("patient-me-email", "POST"): {"email", "password"},
    ("patient-me", "PATCH"): {
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "preferred_channel",
        "consent_email",
        "consent_sms",
    },
    ("patient-me-intake", "POST"): INTAKE_ANSWERS,
    ("patient-break-glass", "POST"): {"reason"},
    ("appointment-list", "POST"): {
        "service",
        "practitioner",
        "start",
        "location",
        "patient",
        "note",
        "hold",
    },
    ("hold", "POST"): {"service", "practitioner", "start", "location"},
    ("appointment-cancel", "POST"): {"reason"},
    ("appointment-confirm", "POST"): set(),
    ("appointment-reschedule", "POST"): {"start", "practitioner"},
    ("treatment-note-list", "POST"): {"appointment", *SOAP},
    ("treatment-note-detail", "PATCH"): SOAP,
    ("treatment-note-sign", "POST"): set(),
    ("treatment-note-addenda", "POST"): {"text"},
    ("treatment-plan-list", "POST"): {
        "patient",
        "goals",
        "maintenance_interval_weeks",
        "phases",
        *MEASURE_SCHEDULE,
    },
    ("treatment-plan-detail", "PATCH"): {
        "goals",
        "maintenance_interval_weeks",
        "status",
        *MEASURE_SCHEDULE,
    },
    ("treatment-plan-phase", "POST"): {"phase"},
    ("outcome-measure-list", "POST"): {
        "patient",
        "kind",
        "value",
        "odi_answers",
        "rmdq_answers",
        "psfs",
        "recorded_at",
    },
    ("intake-list", "POST"): {"patient", *INTAKE_ANSWERS},
    ("intake-clearance", "POST"): {"cleared_on", "note"},
    ("home-exercise-list", "POST"): {"plan", "exercise", "started_on", *HOME_EXERCISE_DOSE},
    ("home-exercise-revise", "POST"): HOME_EXERCISE_DOSE,
    ("home-exercise-stop", "POST"): set(),
    ("patient-me-exercise-log-list", "POST"): {"home_exercise", "done_on", *EXERCISE_LOG},
    ("patient-me-exercise-log-detail", "PATCH"): EXERCISE_LOG,
    ("waitlist-entry-list", "POST"): {"service", "patient", *WAITLIST_WISH},
    ("waitlist-entry-detail", "PATCH"): WAITLIST_WISH,
    ("appointment-series-preview", "POST"): COURSE_RULE,
    ("appointment-series-list", "POST"): {*COURSE_RULE, "free_only", "choices"},
    ("appointment-series-cancel", "POST"): {"appointment", "scope", "reason"},
    ("group-class-places", "POST"): {"patient", "free_only"},
    ("group-class-series-places", "POST"): {"patient", "free_only"},
    ("class-place-cancel", "POST"): set(),
    ("class-place-attendance", "POST"): {"attendance"},
    # An offer's link takes or declines what the offer says: the body is never read.
    ("waitlist-offer-accept", "POST"): set(),
    ("waitlist-offer-decline", "POST"): set(),
    ("waitlist-own-offer-accept", "POST"): set(),
    ("waitlist-own-offer-decline", "POST"): set(),
}
# Patients book and wait for themselves: the staff's `patient`, desk `note` and `urgent` are
# not theirs.
NOT_FOR_PATIENTS = {
    ("appointment-list", "POST"): {"patient", "note"},
    ("waitlist-entry-list", "POST"): {"patient", "note", "urgent"},
    ("waitlist-entry-detail", "PATCH"): {"note", "urgent"},
    ("appointment-series-preview", "POST"): {"patient"},
    ("appointment-series-list", "POST"): {"patient"},
    ("group-class-places", "POST"): {"patient"},
    ("group-class-series-places", "POST"): {"patient"},
}

# Writes the matrix has no persona succeed at with its body: with these bodies, they do.
EXTRA_WRITERS = {
    ("token", "POST"): [Persona.ANONYMOUS],
    ("token-refresh", "POST"): [Persona.ANONYMOUS],
    ("treatment-plan-list", "POST"): [Persona.PRACTITIONER],  # once A's plan is closed
    ("verify-email", "POST"): [Persona.ANONYMOUS],  # A's address not verified yet
    ("password-reset-confirm", "POST"): [Persona.ANONYMOUS],
    ("class-place-attendance", "POST"): [Persona.RECEPTION],  # once the class has begun
}
VALID_BODIES = {
    "token": lambda w: {"email": w.patient_a.email, "password": PASSWORD},
    "token-refresh": lambda w: {"refresh": str(RefreshToken.for_user(w.patient_a.user))},
    "verify-email": lambda w: {
        "token": make_token(User.objects.get(pk=w.patient_a.user_id), Purpose.VERIFY_EMAIL)
    },
    "password-reset-confirm": lambda w: {
        "token": make_token(User.objects.get(pk=w.patient_a.user_id), Purpose.RESET_PASSWORD),
        "password": "a long enough passphrase",
    },
}


def _close_the_active_plan(w: World) -> None:
    TreatmentPlan.objects.filter(pk=w.plan.pk).update(status=PlanStatus.COMPLETED)


def _unverify_a(w: World) -> None:
    User.objects.filter(pk=w.patient_a.user_id).update(email_verified_at=None)


def _begin_the_class(w: World) -> None:
    """A's class, moved to the hour before now: attendance is marked from its start."""
    start = NOW - timedelta(hours=1)
    GroupClass.objects.filter(pk=w.group_class.pk).update(
        start=start, end=start + timedelta(minutes=45), blocked_until=start + timedelta(hours=1)
    )


PREPARE = {
    "treatment-plan-list": _close_the_active_plan,
    "verify-email": _unverify_a,
    "class-place-attendance": _begin_the_class,
}

WRITES = [
    (endpoint.name, method)
    for endpoint in api_endpoints()
    for method in sorted(endpoint.methods & {"POST", "PUT", "PATCH"})
]


def writers(name: str, method: str) -> list[Persona]:
    allowed = [
        persona
        for persona in PERSONAS
        if 200 <= (expected_status(name, method, persona) or 0) < 300
    ]
    return allowed + EXTRA_WRITERS.get((name, method), [])


# Writes no persona of the world can make succeed: their URL's secret is the only door, and
# the world has none to give. Where each one's body is shown to change nothing instead.
TRIED_ELSEWHERE = {
    ("waitlist-offer-accept", "POST"): "tests/waitlist/test_offers.py (a body is ignored)",
    ("waitlist-offer-decline", "POST"): "tests/waitlist/test_offers.py (a body is ignored)",
}


def test_every_write_endpoint_is_tried():
    assert [
        f"{name} {method}"
        for name, method in WRITES
        if not writers(name, method) and (name, method) not in TRIED_ELSEWHERE
    ] == []


def test_the_contract_lets_a_body_set_only_the_writable_fields(db, world):
    """A field a request body may newly set must be added to `WRITABLE` on purpose."""
    documented = {
        (name, method): writable_fields(path_for(name, method, world), method)
        for name, method in WRITES
    }

    assert documented == {write: WRITABLE.get(write) for write in WRITES}


def test_the_serializers_that_answer_take_nothing_from_a_body():
    """Request bodies are read by serializers of their own; those that answer (a ViewSet's,
    or a view's that only reads) say every field read-only, declared fields included, which
    `Meta.read_only_fields` does not reach."""
    writable = {
        f"{endpoint.name}: {serializer.__name__}.{name}"
        for endpoint in api_endpoints()
        if endpoint.is_viewset or endpoint.methods <= {"GET", "HEAD", "OPTIONS"}
        if (serializer := getattr(endpoint.view, "serializer_class", None)) is not None
        for name, field in serializer().fields.items()
        if not field.read_only
    }

    assert writable == set()


def snapshot() -> dict[str, dict]:
    """Every row of the clinic's tables (and of who is in which group), by table and key."""
    return {
        model._meta.db_table: {row[model._meta.pk.attname]: row for row in model.objects.values()}
        for model in watched_models()
    }


def memberships(rows: dict[str, dict]) -> dict[str, dict]:
    """Who is in which group and holds which permissions."""
    return {table: rows[table] for table in rows if table.endswith(("_groups", "_permissions"))}


def written(before: dict, after: dict) -> list[tuple[str, dict]]:
    """The values the request wrote: every column of each row it added, the columns it
    changed of each row it changed."""
    return [
        (table, {column: value for column, value in row.items() if old.get(column) != value})
        for table, rows in after.items()
        for pk, row in rows.items()
        if (old := before[table].get(pk, {})) != row
    ]


def same(stored, injected) -> bool:
    """Whether a stored value is the injected one (sent as JSON: ids, strings, ISO times)."""
    if isinstance(stored, datetime):
        return isinstance(injected, str) and parse_datetime(injected) == stored
    if isinstance(stored, Decimal):
        return str(injected) == str(stored)
    return stored is not None and str(stored) == str(injected)


CASES = [
    pytest.param(name, method, persona, id=f"{name}-{method}-{persona}")
    for name, method in WRITES
    for persona in writers(name, method)
]


@pytest.mark.parametrize(("name", "method", "persona"), CASES)
def test_protected_fields_in_a_body_change_nothing(db, world, name, method, persona):
    cache.clear()
    if name in PREPARE:
        PREPARE[name](world)
    path = path_for(name, method, world)
    legitimate = set(WRITABLE[name, method])
    if persona in {Persona.PATIENT_A, Persona.PATIENT_B}:
        legitimate -= NOT_FOR_PATIENTS.get((name, method), set())
    valid = VALID_BODIES.get(name, lambda w: body_for(name, method, w, persona))(world)
    injected = {
        field: value
        for field, value in protected_fields(world, persona).items()
        if field not in legitimate
    }
    before = snapshot()

    response = send(world.client(persona), method, path, {**valid, **injected})

    if response.status_code == 400:
        named = set(response.json().get("fields", {}))
        assert named & set(injected), f"refused, but not for a protected field: {named}"
        assert snapshot() == before
        return
    assert 200 <= response.status_code < 300, response.content
    after = snapshot()
    assert memberships(after) == memberships(before), "a body changed who is in which group"
    stored = [
        f"{table}.{column} = {row[column]!r}"
        for table, row in written(before, after)
        for field, value in injected.items()
        for column in (field, f"{field}_id")
        if column in row and same(row[column], value)
    ]
    assert stored == [], f"{persona} set protected fields through {method} {path}"
