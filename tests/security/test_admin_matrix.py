"""Nobody gets into the admin further than their role allows: every URL of the admin site x
every caller, and every action of every changelist x every caller.

The doors come from `django.contrib.admin.site` (`admin_doors.admin_doors`, `admin_actions`,
`autocomplete_sources`), not from a list: a page, an action or a searchable model added
without a line in `POLICY`, `ACTION_POLICY` or `AUTOCOMPLETE_POLICY` (in `admin_policy`)
fails `test_every_admin_door_has_a_policy`. The callers are the API matrix's personas as
the admin tells them apart (`admin_doors.Caller`), with a Manager-group user who is not a
superuser and a superuser. Object URLs open A's records, or those of the practitioner who
treats her, so that the other practitioner's cells show whether a page leaks across objects.

For each cell:
- the outcome is the policy's: a status, or for a redirect where it goes (`login`: not let
  in; `index`: the admin's "no such object", which is how it hides an object from someone
  who may not see it; `302`: done);
- a page that is let through (200) holds none of A's markers the caller may not read
  (`personas.MAY_READ`); a refused one none of A's markers nor the target's name at all;
- a refused POST (change form, delete, an extra page's form, an action) leaves every row of
  the clinic's tables, the groups and permissions, the two-factor devices, the lockout
  records and the token blacklist as they were.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from care.selectors import is_in_care_of
from patients.models import CareAssignment
from tests.fixtures.clinic import TODAY
from tests.security.admin_doors import (
    CALLERS,
    READS_AS,
    Caller,
    action_outcome_of,
    admin_actions,
    admin_doors,
    admin_world_for_module,
    autocomplete_sources,
    form_as_submitted,
    leaked_to,
    model_admin_of,
    outcome_of,
    path_of,
    target_of,
)
from tests.security.admin_policy import ACTION_POLICY, AUTOCOMPLETE_POLICY, POLICY, expected
from tests.security.calls import NEXT_MONDAY
from tests.security.personas import (
    A_SURNAME,
    MARKERS,
    MAY_READ,
    PASSWORD,
    WATCHED_APPS,
    DataKind,
    database_fingerprint,
    watched_models,
)

DOORS = {door.key: door for door in admin_doors()}
ACTIONS = {str(action): action for action in admin_actions()}
AUTOCOMPLETES = autocomplete_sources()

# What a refused write must not have touched: the clinic's tables, and who may do what.
GUARDED = watched_models(
    [*WATCHED_APPS, "auth", "otp_totp", "axes", "token_blacklist"], include_auto_created=True
)
REFUSED = {"login", "index", "glass", "403", "404", "405"}


def may_read_a(caller: Caller) -> bool:
    return DataKind.IDENTITY in MAY_READ[READS_AS[caller]]


@pytest.fixture(scope="module")
def admin_world(django_db_setup, django_db_blocker):
    yield from admin_world_for_module(django_db_blocker)


@pytest.fixture(scope="module")
def guarded_as_built(admin_world, django_db_blocker) -> str:
    """The digest of the guarded tables as every case starts: each case rolls back to the
    world as it was built, so it is read once."""
    with django_db_blocker.unblock():
        return database_fingerprint(GUARDED)


# --- what is sent ------------------------------------------------------------------------

# The bodies of the admin's own pages that a caller entitled to them would send.
BODIES = {
    "appointments_appointment_book": lambda w: {
        "patient": w.world.patient_a.pk,
        "service": w.world.myotherapy.pk,
        "date": NEXT_MONDAY.isoformat(),
    },
    "appointments_appointment_reschedule": lambda w: {
        "date": NEXT_MONDAY.isoformat(),
        "move": "1",
    },
    "appointments_appointment_cancel": lambda w: {"reason": "Away for work"},
    # One class of the group service, clear of her practitioner's other classes and visits.
    "appointments_groupclass_add": lambda w: {
        "service": w.world.group_class.service_id,
        "practitioner": w.world.practitioner.pk,
        "location": w.world.group_class.location_id,
        "first_date": (TODAY + timedelta(days=12)).isoformat(),
        "at": "15:00",
        "every_weeks": "1",
        "classes": "1",
        "capacity": "4",
    },
    "appointments_groupclass_book": lambda w: {"patient": w.world.patient_a.pk},
    "appointments_groupclass_cancel": lambda w: {"reason": "The coach is away"},
    # Clinical records for A, as her practitioner would enter them.
    "treatments_intake_add": lambda w: {
        "patient": w.world.patient_a.pk,
        "complaint": "Sore lower back",
        "pain_score": "5",
        "duration": "chronic",
        "activity": "new_runner",
        "_save": "Save",
    },
    "treatments_outcomemeasure_add": lambda w: {
        "patient": w.world.patient_a.pk,
        "kind": "pain",
        "recorded_at_0": TODAY.isoformat(),
        "recorded_at_1": "07:30",
        "pain": "4",
        "_save": "Save",
    },
    "treatments_treatmentnote_add": lambda w: {"appointment": w.world.unwritten_session.pk},
    "patients_careassignment_add": lambda w: {
        "patient": w.world.patient_a.pk,
        "practitioner": w.world.other_practitioner.pk,
        "assign": "Assign",
    },
    # A is waiting for myotherapy already: an entry for the assessment is a new one.
    "waitlist_waitlistentry_add": lambda w: {
        "patient": w.world.patient_a.pk,
        "service": w.world.assessment.pk,
        "latest_date": (TODAY + timedelta(days=14)).isoformat(),
        "urgent": "on",
        "add": "Add to the waitlist",
    },
    "patients_patient_break_glass": lambda w: {
        "reason": "Her practitioner is away and she is in pain at the desk",
        "break_glass": "Break the glass",
    },
    "treatments_intake_clear": lambda w: {
        "clear": "1",
        "cleared_on": TODAY.isoformat(),
        "note": "Seen by her GP",
    },
    "treatments_treatmentnote_addendum": lambda w: {"text": "Also tight hip flexors"},
    "auth_user_password_change": lambda w: {
        "usable_password": "true",
        "password1": "a brand new passphrase",
        "password2": "a brand new passphrase",
    },
    "password_change": lambda w: {
        "old_password": PASSWORD,
        "new_password1": "a brand new passphrase",
        "new_password2": "a brand new passphrase",
    },
    "two_factor": lambda w: {"restart": "1"},
}
# Query strings that make a page show A's records, so that its leak check means something.
QUERIES = {
    # The bare list opens on today; A's visit is on another day.
    "appointments_appointment_changelist": lambda w: {
        "start__gte": w.world.future_visit.local_start.date().isoformat(),
        "start__lt": (w.world.future_visit.local_start.date() + timedelta(days=1)).isoformat(),
    },
    "appointments_appointment_day": lambda w: {
        "date": w.world.future_visit.local_start.date().isoformat(),
        "location": w.world.future_visit.location_id,
        "service": w.world.myotherapy.pk,
    },
}
# An action's confirmation page, answered.
CONFIRMATIONS = {
    "delete_selected": {"post": "yes"},
    "archive_selected": {"archive": "1", "reason": "Moved interstate"},
    "clear_selected": {"clear": "1", "cleared_on": TODAY.isoformat(), "note": "Seen by her GP"},
}


def body_for(key: str, world, caller: Caller, path: str) -> dict:
    door = DOORS[key]
    if key in BODIES:
        return BODIES[key](world)
    if door.kind == "delete":
        return {"post": "yes"}
    if key == "accounts_user_change":
        # What an escalation sends: superuser, staff, every group.
        return {
            **form_as_submitted(world, path, door.model),
            "is_superuser": ["on"],
            "is_staff": ["on"],
            "groups": [str(group.pk) for group in Group.objects.all()],
            "_save": ["Save"],
        }
    if door.kind == "change":
        return {**form_as_submitted(world, path, door.model, edit_free_text=True), "_save": "Save"}
    if door.kind == "add":
        return {**form_as_submitted(world, path, door.model), "_save": "Save"}
    return {}


# Pages that name A to everyone entitled to see her: proof that the cell was about A, so
# that the other callers' answers were silences about her, not about someone else.
CLINICAL_ADMINS = [
    "intake",
    "treatmentplan",
    "treatmentnote",
    "outcomemeasure",
    "homeexercise",
    "homeexerciselog",
]
PAGES = ["changelist", "change"]
NAMES_A = {
    "appointments_groupclass_change",
    "appointments_classplace_changelist",
    "appointments_classplace_change",
    "appointments_appointment_day",
    "appointments_appointment_changelist",
    "appointments_appointment_change",
    "patients_patient_changelist",
    "patients_patient_change",
    "notifications_notification_changelist",
    "notifications_notification_change",
    "audit_auditentry_changelist",
    "waitlist_waitlistentry_changelist",
    "waitlist_waitlistentry_change",
    *(f"treatments_{model}_{page}" for model in CLINICAL_ADMINS for page in PAGES),
}


def methods_of(key: str) -> list[str]:
    methods = [method for method in ("GET", "POST") if f"{key} {method}" in POLICY]
    return methods or ["GET"]  # a door without a line: its cell fails, naming it


def test_every_admin_door_has_a_policy():
    """A new admin page, or an action, or a model the autocomplete can search, needs its
    line here before it ships (a ModelAdmin's add, change and delete pages a POST line too)."""
    missing = [
        f"{key} {method}"
        for key, door in DOORS.items()
        for method in ("GET", "POST")
        if method == "GET" or door.kind in {"add", "change", "delete"}
        if f"{key} {method}" not in POLICY
    ]
    stale = [line for line in POLICY if line.split()[0] not in DOORS]
    stale += [name for name in ACTION_POLICY if name not in ACTIONS]
    stale += [label for label in AUTOCOMPLETE_POLICY if label not in AUTOCOMPLETES]
    missing += [name for name in ACTIONS if name not in ACTION_POLICY]
    missing += [label for label in AUTOCOMPLETES if label not in AUTOCOMPLETE_POLICY]
    assert (missing, stale) == ([], [])


def assert_shows_only_what_is_theirs(world, key, caller, response, target) -> None:
    assert [s for s in world.never_shown if s.encode() in response.content] == []
    outcome = outcome_of(response)
    if outcome == "200":
        assert leaked_to(caller, response.content) == []
        if key in NAMES_A:
            names_a = A_SURNAME.encode() in response.content
            assert names_a == may_read_a(caller), f"{caller} and A's name on {key}"
    elif outcome in REFUSED:
        shown = [*MARKERS, *([str(target)] if target is not None else [])]
        assert [s for s in shown if s.encode() in response.content] == []


DOOR_CASES = [
    pytest.param(key, method, caller, id=f"{key}-{method}-{caller}")
    for key in DOORS
    for method in methods_of(key)
    for caller in CALLERS
]


@pytest.mark.parametrize(("key", "method", "caller"), DOOR_CASES)
def test_admin_door(db, admin_world, guarded_as_built, key, method, caller):
    cache.clear()  # throttle counters
    door = DOORS[key]
    path = path_of(door, admin_world, caller)
    target = target_of(door, admin_world, caller)
    client = admin_world.client(caller)
    # Reads write nothing that is guarded (the audit log is not): only writes are compared.
    before = guarded_as_built
    if method == "GET":
        response = client.get(path, QUERIES.get(key, lambda w: {})(admin_world))
    else:
        response = client.post(path, body_for(key, admin_world, caller, path))

    outcome = outcome_of(response)
    wanted = expected(POLICY[f"{key} {method}"], caller)
    if wanted == "kept":
        assert outcome == "302", response  # saved...
        assert database_fingerprint(GUARDED) == before, f"{caller} raised privileges"
    else:
        assert outcome == wanted, response
    assert_shows_only_what_is_theirs(admin_world, key, caller, response, target)
    if method == "POST" and outcome in {"200", *REFUSED}:  # refused, or a form's errors
        assert database_fingerprint(GUARDED) == before, "a refused write changed the database"


ACTION_CASES = [
    pytest.param(name, caller, id=f"{name}-{caller}") for name in ACTIONS for caller in CALLERS
]


@pytest.mark.parametrize(("name", "caller"), ACTION_CASES)
def test_admin_action(db, admin_world, guarded_as_built, name, caller):
    """Each action on the changelist, on A's row (or the treating practitioner's)."""
    action = ACTIONS[name]
    model_admin = model_admin_of(action.label)
    opts = model_admin.model._meta
    client = admin_world.client(caller)
    before = guarded_as_built

    response = client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        {
            "action": action.name,
            "_selected_action": [str(admin_world.targets[model_admin.model].pk)],
            "index": "0",
            **CONFIRMATIONS.get(action.name, {}),
        },
    )

    outcome = action_outcome_of(response)
    wanted = expected(ACTION_POLICY[name], caller)
    if wanted == "none":
        assert outcome in {"ran", "none"}, response
    else:
        assert outcome == wanted, response
    assert leaked_to(caller, response.content) == []
    if wanted != "ran":
        assert database_fingerprint(GUARDED) == before, "a refused action changed the database"


# What each search types: A's name where the model names her.
AUTOCOMPLETE_TERMS = {
    "patients.patient": A_SURNAME,
    "appointments.appointment": A_SURNAME,
    "accounts.user": "alexa",
}
AUTOCOMPLETE_CASES = [
    pytest.param(label, caller, id=f"{label}-{caller}")
    for label in AUTOCOMPLETES
    for caller in CALLERS
]


@pytest.mark.parametrize(("label", "caller"), AUTOCOMPLETE_CASES)
def test_admin_autocomplete(db, admin_world, label, caller):
    app_label, model_name, field_name = AUTOCOMPLETES[label]

    response = admin_world.client(caller).get(
        reverse("admin:autocomplete"),
        {
            "app_label": app_label,
            "model_name": model_name,
            "field_name": field_name,
            "term": AUTOCOMPLETE_TERMS.get(label, ""),
        },
    )

    assert outcome_of(response) == expected(AUTOCOMPLETE_POLICY[label], caller)
    assert leaked_to(caller, response.content) == []


def test_a_is_in_her_practitioners_care_through_her_bookings_alone(db, admin_world):
    """The practitioner column tests a treating practitioner by the booking rule, not only
    by the assignment; the other practitioner's, one with no care relationship with A."""
    world = admin_world.world
    CareAssignment.objects.filter(patient=world.patient_a).delete()

    assert is_in_care_of(world.practitioner, world.patient_a)
    assert not is_in_care_of(world.other_practitioner, world.patient_a)


def test_lockout_records_offer_no_action_that_needs_axes_middleware(db, admin_world):
    """django-axes' "Clean up expired attempts" asked for no permission and, without the
    AxesMiddleware this project does not use, answered 500: it is not offered, to anyone."""
    client = admin_world.client(Caller.SUPERUSER)
    attempt = admin_world.targets[AccessAttempt]
    before = database_fingerprint(GUARDED)

    response = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "cleanup_expired_attempts", "_selected_action": [attempt.pk], "index": "0"},
    )

    assert action_outcome_of(response) == "off"
    assert database_fingerprint(GUARDED) == before
