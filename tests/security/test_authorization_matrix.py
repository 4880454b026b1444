"""Nobody sees or changes what is not theirs: every endpoint of the API x every method x
every persona, with ids of patient A's records.

The endpoints come from the URL configuration (`endpoints.api_endpoints`), not from a
list: an endpoint added without a line in `POLICY` (who gets what) and `calls.KWARGS`
(which of A's objects its URL names) fails `test_every_endpoint_has_a_policy`. For each case:

- the status is the one the policy table gives (methods an endpoint does not route must
  be refused: 401, 403, 404 or 405), so there is no unexpected 2xx;
- the body holds none of A's markers the persona may not read (`personas.MAY_READ`),
  whatever the status;
- a request that is refused leaves every row of the clinic's tables as it was, and one
  that succeeds for a persona with no right to A's records leaves A's rows as they were.
"""

import pytest
from django.core.cache import cache

from tests.security.calls import KWARGS, body_for, path_for, send
from tests.security.endpoints import METHODS, api_endpoints
from tests.security.personas import (
    A_SURNAME,
    MAY_READ,
    MAY_WRITE_FOR_A,
    PERSONAS,
    DataKind,
    Persona,
    database_fingerprint,
    leaked_markers,
    rows_of_a,
    world_for_module,
)

ENDPOINTS = {endpoint.name: endpoint for endpoint in api_endpoints()}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_for_module(django_db_blocker)


@pytest.fixture(scope="module")
def world_as_built(world, django_db_blocker) -> tuple[str, str]:
    """The digests of the whole database and of A's rows as every case starts: each case
    rolls back to the world as it was built, so they are read once, not twice a case."""
    with django_db_blocker.unblock():
        return database_fingerprint(), rows_of_a(world)


# Who gets what, in the persona order of the header; HEAD answers as GET does.
# fmt: off
POLICY = {
    #                                         anon  A    B   recep prac other mgr
    ("register", "POST"):                    "201 201 201 201 201 201 201",  # no auth at all
    ("token", "POST"):                       "401 401 401 401 401 401 401",  # wrong password
    ("token-refresh", "POST"):               "401 401 401 401 401 401 401",  # not a token
    # Account links: open to all; the token or the address is what counts (issue 17).
    ("verify-email", "POST"):                "400 400 400 400 400 400 400",  # not a token
    ("verify-email-resend", "POST"):         "202 202 202 202 202 202 202",
    ("password-reset", "POST"):              "202 202 202 202 202 202 202",
    ("password-reset-confirm", "POST"):      "400 400 400 400 400 400 400",  # not a token
    ("availability", "GET"):                 "200 200 200 200 200 200 200",
    ("location-list", "GET"):                "200 200 200 200 200 200 200",
    ("location-detail", "GET"):              "200 200 200 200 200 200 200",
    ("service-list", "GET"):                 "200 200 200 200 200 200 200",
    ("service-detail", "GET"):               "200 200 200 200 200 200 200",
    ("practitioner-list", "GET"):            "200 200 200 200 200 200 200",
    ("practitioner-detail", "GET"):          "200 200 200 200 200 200 200",
    ("clinic", "GET"):                       "200 200 200 200 200 200 200",
    # Anyone may hold a free time for a few minutes, and release a hold whose id they have
    # (the id is the secret; an unknown one is released all the same).
    ("hold", "POST"):                        "201 201 201 201 201 201 201",
    ("hold-detail", "DELETE"):               "204 204 204 204 204 204 204",
    # A patient's own: B reads and edits B's profile, submits B's intake.
    ("patient-me", "GET"):                   "401 200 200 403 403 403 403",
    ("patient-me", "PATCH"):                 "401 200 200 403 403 403 403",
    ("patient-me-export", "GET"):            "401 200 200 403 403 403 403",
    ("patient-me-intake", "POST"):           "401 201 201 403 403 403 403",
    ("patient-me-email", "POST"):            "401 202 202 403 403 403 403",
    # Bookings: B books B's own; the other practitioner may not book A (not his patient).
    ("appointment-list", "GET"):             "401 200 200 200 200 200 200",
    ("appointment-list", "POST"):            "401 201 201 201 201 400 201",
    ("appointment-detail", "GET"):           "401 200 404 200 200 404 200",
    ("appointment-cancel", "POST"):          "401 200 404 200 200 404 200",
    ("appointment-confirm", "POST"):         "401 200 404 200 200 404 200",
    ("appointment-reschedule", "POST"):      "401 200 404 200 200 404 200",
    ("appointment-ics", "GET"):              "401 200 404 200 200 404 200",
    # Staff search: a practitioner sees only the patients they treat.
    ("patient-list", "GET"):                 "401 403 403 200 200 200 200",
    ("patient-detail", "GET"):               "401 403 403 200 200 404 200",
    # Break the glass: practitioners only; A is in her practitioner's care already (409).
    ("patient-break-glass", "POST"):         "401 403 403 403 409 201 403",
    ("notification-list", "GET"):            "401 403 403 200 200 200 200",
    ("notification-detail", "GET"):          "401 403 403 200 200 404 200",
    # Clinical records: never reception; a manager reads and adjusts plans, but writes no
    # notes, scores or intakes and clears no red flags (as the admin: a clinician's acts).
    ("patient-progress", "GET"):             "401 403 403 403 200 404 200",
    # The clinic outcomes report: counts over every patient, for managers only.
    ("report-outcomes", "GET"):              "401 403 403 403 403 403 200",
    ("treatment-note-list", "GET"):          "401 403 403 403 200 200 200",
    ("treatment-note-list", "POST"):         "401 403 403 403 201 400 403",
    ("treatment-note-detail", "GET"):        "401 403 403 403 200 404 200",
    ("treatment-note-detail", "PATCH"):      "401 403 403 403 200 404 403",
    ("treatment-note-sign", "POST"):         "401 403 403 403 200 404 403",
    ("treatment-note-addenda", "POST"):      "401 403 403 403 201 404 403",
    ("treatment-plan-list", "GET"):          "401 403 403 403 200 200 200",
    ("treatment-plan-list", "POST"):         "401 403 403 403 409 400 403",  # A has an active plan
    ("treatment-plan-detail", "GET"):        "401 403 403 403 200 404 200",
    ("treatment-plan-detail", "PATCH"):      "401 403 403 403 200 404 200",
    ("treatment-plan-phase", "POST"):        "401 403 403 403 200 404 200",
    ("outcome-measure-list", "GET"):         "401 403 403 403 200 200 200",
    ("outcome-measure-list", "POST"):        "401 403 403 403 201 400 403",
    ("outcome-measure-detail", "GET"):       "401 403 403 403 200 404 200",
    ("intake-list", "GET"):                  "401 403 403 403 200 200 200",
    ("intake-list", "POST"):                 "401 403 403 403 201 400 403",
    ("intake-detail", "GET"):                "401 403 403 403 200 404 200",
    ("intake-clearance", "POST"):            "401 403 403 403 201 404 403",
    # The home programme: prescribed by a practitioner who treats the patient (the other
    # practitioner cannot name A's plan: 400), read by managers; the library is for every
    # clinician; logs are the patient's to write, their clinicians' to read.
    ("exercise-list", "GET"):                "401 403 403 403 200 200 200",
    ("exercise-detail", "GET"):              "401 403 403 403 200 200 200",
    ("home-exercise-list", "GET"):           "401 403 403 403 200 200 200",
    ("home-exercise-list", "POST"):          "401 403 403 403 201 400 403",
    ("home-exercise-detail", "GET"):         "401 403 403 403 200 404 200",
    ("home-exercise-revise", "POST"):        "401 403 403 403 201 404 403",
    ("home-exercise-stop", "POST"):          "401 403 403 403 200 404 403",
    ("home-exercise-log-list", "GET"):       "401 403 403 403 200 200 200",
    ("home-exercise-log-detail", "GET"):     "401 403 403 403 200 404 200",
    ("patient-me-programme", "GET"):         "401 200 200 403 403 403 403",
    ("patient-me-exercise-log-list", "GET"): "401 200 200 403 403 403 403",
    ("patient-me-exercise-log-list", "POST"): "401 201 400 403 403 403 403",
    ("patient-me-exercise-log-detail", "GET"): "401 200 404 403 403 403 403",
    ("patient-me-exercise-log-detail", "PATCH"): "401 200 404 403 403 403 403",
    # The waitlist: patients their own; the front desk anyone's; a practitioner reads the
    # entries of the patients in their care, and changes none.
    ("waitlist-entry-list", "GET"):          "401 200 200 200 200 200 200",
    ("waitlist-entry-list", "POST"):         "401 201 201 201 403 403 201",
    ("waitlist-entry-detail", "GET"):        "401 200 404 200 200 404 200",
    ("waitlist-entry-detail", "PATCH"):      "401 200 404 200 403 403 200",
    ("waitlist-entry-detail", "DELETE"):     "401 204 404 204 403 403 204",
    # Courses: staff book them for the patients they may book for; patients where the
    # service allows it online (this one does not: 409); each reads their own.
    ("appointment-series-list", "POST"):     "401 409 409 201 201 400 201",
    ("appointment-series-preview", "POST"):  "401 409 409 200 200 400 200",
    ("appointment-series-detail", "GET"):    "401 200 404 200 200 404 200",
    ("appointment-series-cancel", "POST"):   "401 200 404 200 200 404 200",
    # Group classes: anyone reads the timetable (attendees: the front desk and the coach);
    # patients book their own place, staff a patient's (the other practitioner may not book
    # A: not his patient); a place is read and cancelled by its patient and by staff who see
    # it; attendance is staff's (not on the class's day yet: 409).
    ("group-class-list", "GET"):             "200 200 200 200 200 200 200",
    ("group-class-detail", "GET"):           "200 200 200 200 200 200 200",
    ("group-class-places", "POST"):          "401 201 201 201 201 400 201",
    ("group-class-series-places", "POST"):   "401 201 201 201 201 400 201",
    ("class-place-list", "GET"):             "401 200 200 200 200 200 200",
    ("class-place-detail", "GET"):           "401 200 404 200 200 404 200",
    ("class-place-cancel", "POST"):          "401 200 404 200 200 404 200",
    ("class-place-attendance", "POST"):      "401 403 403 409 409 404 409",
    # An offer's link: open to all, the signed token is what counts; a forged one is 404
    # for everyone, signed in or not (tests/waitlist/test_offers.py takes real ones).
    ("waitlist-offer", "GET"):               "404 404 404 404 404 404 404",
    ("waitlist-offer-accept", "POST"):       "404 404 404 404 404 404 404",
    ("waitlist-offer-decline", "POST"):      "404 404 404 404 404 404 404",
    # By id, signed in: the patient it was offered to only; staff are not that patient.
    ("waitlist-own-offer-accept", "POST"):   "401 200 404 403 403 403 403",
    ("waitlist-own-offer-decline", "POST"):  "401 200 404 403 403 403 403",
}
# fmt: on
REFUSALS = {401, 403, 404, 405}

# Reads that name A to anyone entitled to her: proof that the case was about A, so that the
# answers to everyone else were refusals or silences about her, not about someone else.
NAME_A = {
    "group-class-detail",
    "class-place-list",
    "class-place-detail",
    "patient-me",
    "patient-me-export",
    "appointment-list",
    "appointment-detail",
    "patient-list",
    "patient-detail",
    "notification-list",
    "notification-detail",
    "treatment-note-list",
    "treatment-note-detail",
    "treatment-plan-list",
    "treatment-plan-detail",
    "outcome-measure-list",
    "outcome-measure-detail",
    "intake-list",
    "intake-detail",
    "waitlist-entry-list",
    "waitlist-entry-detail",
    "home-exercise-list",
    "home-exercise-detail",
    "patient-me-programme",
}


def expected_status(name: str, method: str, persona: Persona) -> int | None:
    """The policy's status, or None where any refusal will do (OPTIONS; methods the
    endpoint does not route)."""
    row = POLICY.get((name, "GET" if method == "HEAD" else method))
    if row is None or method not in ENDPOINTS[name].methods:
        return None
    return int(row.split()[PERSONAS.index(persona)])


def may_read_a(persona: Persona) -> bool:
    return DataKind.IDENTITY in MAY_READ[persona]


def test_every_endpoint_has_a_policy():
    """A new endpoint, or a new method on one, needs its line here before it ships."""
    missing = [
        f"{name} {method}"
        for name, endpoint in ENDPOINTS.items()
        for method in sorted(endpoint.methods - {"HEAD", "OPTIONS"})
        if (name, method) not in POLICY
    ]
    stale = [f"{name} {method}" for name, method in POLICY if name not in ENDPOINTS]
    unrouted = [
        f"{name} {method}"
        for name, method in POLICY
        if name in ENDPOINTS and method not in ENDPOINTS[name].methods
    ]
    needs_ids = [
        name
        for name, endpoint in ENDPOINTS.items()
        if "(?P<" in endpoint.route or "<int:" in endpoint.route
        if name not in KWARGS
    ]
    assert (missing, stale, unrouted, needs_ids) == ([], [], [], [])


CASES = [
    pytest.param(name, method, persona, id=f"{name}-{method}-{persona}")
    for name in ENDPOINTS
    for method in METHODS
    for persona in PERSONAS
]


@pytest.mark.parametrize(("name", "method", "persona"), CASES)
def test_nobody_gets_what_is_not_theirs(db, world, world_as_built, name, method, persona):
    cache.clear()  # throttle counters: each case starts with none
    path = path_for(name, method, world)
    before, a_before = world_as_built

    response = send(world.client(persona), method, path, body_for(name, method, world, persona))

    expected = expected_status(name, method, persona)
    if expected is not None:
        assert response.status_code == expected, response.content
    elif method == "OPTIONS":
        assert response.status_code in {200} | REFUSALS, response.content
    else:
        assert response.status_code in REFUSALS, response.content
    assert leaked_markers(persona, response.content) == []
    if method == "GET" and response.status_code == 200 and name in NAME_A:
        assert (A_SURNAME.encode() in response.content) == may_read_a(persona), response.content
    if response.status_code >= 300:
        assert database_fingerprint() == before, "a refused request changed the database"
    elif persona not in MAY_WRITE_FOR_A:
        assert rows_of_a(world) == a_before, f"{persona} changed A's records"
