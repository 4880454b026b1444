"""Property-based fuzz (hypothesis) of what Python accepts but the clinic cannot hold
(issue 13, item 11): 0 server errors.

- **The API**: every write operation of the URL configuration, every body field the
  OpenAPI schema documents for it, sent by a persona the access policy lets through,
  with a body otherwise valid and one field hostile: non-finite and huge numbers, floats
  for ints, deep nesting, very long strings, NUL, lone surrogates, wrong types, year 1 and
  9999, times without an offset. No 5xx; a 400 names the field.
- **The admin**: every registered ModelAdmin's changelist with its own query parameters
  (each list filter's, search, ordering, page, date hierarchy), its add and change pages,
  and every custom admin URL (the day view, booking, moving, cancelling...) with the
  parameters the front desk's links carry, as a superuser, a Manager who is not a
  superuser and reception. No 5xx.

Each example runs in a savepoint rolled back after it, so one example's writes (a
registration, a lockout count) never change the next one's answer. Derandomized: the
same examples every run.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import UserFactory
from tests.security.calls import KWARGS, body_for
from tests.security.endpoints import api_endpoints, writable_fields
from tests.security.personas import Persona, World, world_for_module
from tests.security.test_authorization_matrix import POLICY, REFUSALS

# Examples per body field and per admin page, kept small for `make test` (the suite's time
# budget); CLINIC_FUZZ_SCALE=20 searches twenty times as long, with other examples.
SCALE = int(os.environ.get("CLINIC_FUZZ_SCALE", "1"))
API_EXAMPLES = 5 * SCALE
ADMIN_EXAMPLES = 2 * SCALE


def fuzz(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        # A found failure is reported as found: shrinking a web request costs minutes.
        phases=[Phase.explicit, Phase.generate],
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from world_for_module(django_db_blocker)


@pytest.fixture(autouse=True)
def _no_throttling(monkeypatch):
    """The fuzz must reach the views, not the throttles (tests/accounts/test_auth_api.py
    has those)."""
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"auth": "100000/minute", "booking": "100000/minute", "account_email": "100000/minute"},
    )


def rolled_back(call: Callable):
    with transaction.atomic():
        answer = call()
        transaction.set_rollback(True)
    return answer


# --- hostile values ------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """JSON text that json.dumps cannot write (1e999, a lone surrogate escape)."""

    text: str


def nested(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


HOSTILE = st.one_of(
    st.sampled_from([Raw("1e999"), Raw("-1e999"), Raw("NaN"), Raw("Infinity"), Raw("1e308")]),
    st.integers(min_value=2**63 - 1, max_value=10**40),
    st.integers(max_value=-1, min_value=-(10**40)),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=17, max_value=5000).map(nested),
    st.integers(min_value=1_000, max_value=200_000).map(lambda n: "x" * n),
    st.text(max_size=8).map(lambda text: f"a\x00{text}"),
    st.sampled_from([Raw('"\\ud800"'), Raw('"Ada\\udfff"'), Raw('{"\\ud800": 1}')]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-12:00",
            "2027-03-29T10:00:00",  # no offset
            "2027-02-30",
            "2027-03-29T24:00:00+11:00",
        ]
    ),
    st.text(max_size=20),
)


def json_body(valid: dict, field: str, value) -> str:
    marker = "\x01HOSTILE\x01"
    text = json.dumps({**valid, field: marker if isinstance(value, Raw) else value})
    return text.replace(json.dumps(marker), value.text) if isinstance(value, Raw) else text


# --- the API: every write operation's body fields -------------------------------------------

# The first persona, in this order, whom the access policy lets through (else anonymous).
CALLERS = [Persona.ANONYMOUS, Persona.PATIENT_A, Persona.RECEPTION, Persona.PRACTITIONER]
ORDER = list(Persona)


def caller_of(name: str, method: str) -> Persona:
    statuses = [int(status) for status in POLICY[(name, method)].split()]
    for persona in [*CALLERS, Persona.MANAGER]:
        if statuses[ORDER.index(persona)] not in REFUSALS:
            return persona
    return Persona.ANONYMOUS


def _write_operations() -> list[tuple[str, str]]:
    return [
        (endpoint.name, method)
        for endpoint in api_endpoints()
        for method in sorted(endpoint.methods & {"POST", "PUT", "PATCH"})
    ]


def _body_fields(name: str, method: str) -> list[str]:
    """The schema's body fields (any id fills the path: the schema is per template)."""
    route = next(endpoint.route for endpoint in api_endpoints() if endpoint.name == name)
    takes_pk = "(?P<pk>" in route or "<int:pk>" in route
    kwargs = {"pk": 1} if takes_pk else {}
    if "<str:token>" in route:  # an offer's link: any token fills the path
        kwargs = {"token": "token"}
    if "<uuid:public_id>" in route:  # an offer by its id: any UUID fills the path
        kwargs = {"public_id": "00000000-0000-0000-0000-000000000000"}
    path = reverse(name, kwargs=kwargs)
    return sorted(writable_fields(path, method))


WRITE_OPERATIONS = _write_operations()
# Signing a note takes no body: nothing to fuzz.
WITH_BODY = [operation for operation in WRITE_OPERATIONS if _body_fields(*operation)]


def _path(name: str, world: World) -> str:
    return reverse(name, kwargs=KWARGS.get(name, lambda w: {})(world))


def names_the_field(body: dict, field: str) -> bool:
    """A 400 says which field: in `fields`, or at the start of the parser's message."""
    named = body.get("fields") or {}
    return any(name == field or name.startswith(f"{field}.") for name in named) or body.get(
        "detail", ""
    ).startswith(field)


def test_every_write_operation_with_a_body_is_fuzzed():
    """A write operation whose schema lost its body fields would escape the fuzz."""
    assert set(WRITE_OPERATIONS) - set(WITH_BODY) == {
        ("treatment-note-sign", "POST"),
        ("appointment-confirm", "POST"),
        ("home-exercise-stop", "POST"),
        # An offer's link takes or declines what the offer says; it reads no body.
        ("waitlist-offer-accept", "POST"),
        ("waitlist-offer-decline", "POST"),
        ("waitlist-own-offer-accept", "POST"),
        ("waitlist-own-offer-decline", "POST"),
        # A place in a group class is given up as it is: no reason asked.
        ("class-place-cancel", "POST"),
    }


@pytest.mark.parametrize(("name", "method"), WITH_BODY)
def test_hostile_body_fields_get_a_4xx_naming_the_field(db, world, name, method):
    path = _path(name, world)
    fields = sorted(writable_fields(path, method))
    persona = caller_of(name, method)
    client = world.client(persona)
    client.raise_request_exception = False
    valid = body_for(name, method, world, persona)

    @fuzz(API_EXAMPLES * len(fields))
    @given(field=st.sampled_from(fields), value=HOSTILE)
    def hostile(field, value):
        raw = json_body(valid, field, value)
        answer = rolled_back(
            lambda: client.generic(method, path, raw, content_type="application/json")
        )
        assert answer.status_code < 500, (persona, field, raw[:200])
        if answer.status_code == 400:
            assert names_the_field(answer.json(), field), (field, raw[:200], answer.json())

    hostile()


# --- the admin: every changelist's parameters and every custom page --------------------------

STANDARD = {"changelist", "add", "history", "delete", "change"}
# What the front desk's links carry (day view → booking form → slot), and Django's own.
PAGE_PARAMETERS = [
    "date",
    "location",
    "service",
    "practitioner",
    "patient",
    "start",
    "appointment",
    "replace",
    "_changelist_filters",
    "_popup",
]
SLUGS = {"change": "check-in", "phase": "strengthen"}
QUERY_VALUES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01",
            "9999-12-31",
            "0000-00-00",
            "9999",
            "1",
            "12",
            "99999",
            "-1",
            "0",
            "1.5",
            "1e999",
            "nan",
            "inf",
            "\x00",
            "%ED%A0%80",  # a lone surrogate's UTF-8 bytes (already percent-encoded)
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+14:00",
            "2027-03-29T10:00:00",
            "1|1|99999999999999999",
            "x" * 5000,
            "",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
    st.text(max_size=12),
)


@dataclass(frozen=True)
class AdminPage:
    name: str
    kwargs_of: Callable[[], dict]
    parameters: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


def _first_pk(model) -> Callable[[], dict]:
    return lambda: {"object_id": str(model._default_manager.order_by("pk").first().pk)}


def _kwargs_for(pattern: URLPattern, model) -> Callable[[], dict]:
    names = list(pattern.pattern.converters)

    def kwargs() -> dict:
        first = model._default_manager.order_by("pk").first()
        values = {"pk": first.pk, "object_id": str(first.pk), **SLUGS}
        return {name: values[name] for name in names}

    return kwargs


def changelist_parameters(model_admin, superuser) -> tuple[str, ...]:
    request = RequestFactory().get("/")
    request.user = superuser
    changelist = model_admin.get_changelist_instance(request)
    names = {"q", "o", "p", "e", "all", "_facets", "_to_field"}
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    if model_admin.date_hierarchy:
        names.update(f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day"))
    return tuple(sorted(names))


def admin_pages(superuser) -> list[AdminPage]:
    pages = [AdminPage(name, dict, tuple(PAGE_PARAMETERS)) for name in ("index", "two_factor")]
    for model, model_admin in admin.site._registry.items():
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        pages.append(
            AdminPage(f"{info}_changelist", dict, changelist_parameters(model_admin, superuser))
        )
        pages.append(AdminPage(f"{info}_add", dict, tuple(PAGE_PARAMETERS)))
        if model._default_manager.exists():
            pages.append(AdminPage(f"{info}_change", _first_pk(model), tuple(PAGE_PARAMETERS)))
        for pattern in model_admin.get_urls():
            custom = pattern.name and pattern.name.rsplit("_", 1)[-1] not in STANDARD
            if custom and (model._default_manager.exists() or not pattern.pattern.converters):
                pages.append(
                    AdminPage(pattern.name, _kwargs_for(pattern, model), tuple(PAGE_PARAMETERS))
                )
    return pages


def query_string(parameters: dict[str, str]) -> str:
    return "&".join(
        f"{quote(name)}={value if value.startswith('%') else quote(value)}"
        for name, value in parameters.items()
    )


ADMIN_ROLES = ["superuser", "manager", "reception"]


@pytest.fixture
def admin_clients(world) -> dict[str, Client]:
    superuser = UserFactory(email="root@clinic.example", is_staff=True, is_superuser=True)
    users = {
        "superuser": superuser,
        "manager": world.users[Persona.MANAGER],
        "reception": world.users[Persona.RECEPTION],
    }
    assert not users["manager"].is_superuser
    clients = {}
    for role, user in users.items():
        client = Client(raise_request_exception=False)
        client.force_login(user)
        clients[role] = client
    return clients


def fuzz_page(page: AdminPage, clients: dict[str, Client]) -> None:
    @fuzz(ADMIN_EXAMPLES)
    @given(
        parameters=st.dictionaries(
            st.sampled_from(page.parameters), QUERY_VALUES, min_size=1, max_size=4
        )
    )
    def hostile(parameters):
        url = f"{reverse(f'admin:{page.name}', kwargs=page.kwargs_of())}?"
        url += query_string(parameters)
        for role, client in clients.items():
            answer = rolled_back(lambda client=client: client.get(url))
            assert answer.status_code < 500, f"{role} GET {url[:300]}"

    hostile()


def test_hostile_admin_query_parameters_get_no_server_error(db, world, admin_clients):
    superuser = UserFactory(email="counts@clinic.example", is_staff=True, is_superuser=True)
    pages = admin_pages(superuser)
    failures: list[str] = []

    for page in pages:
        try:
            fuzz_page(page, admin_clients)
        except AssertionError as failure:
            failures.append(str(failure).splitlines()[0])

    assert not failures, "\n".join(failures)
