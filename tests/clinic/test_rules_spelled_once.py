"""Rules that were spelled in several modules, now each in one place: the HTTP status of a
refusal (`kernel.errors`), the named sets of appointment statuses (`appointments.models`),
how a user is named (`User.display_name`) and where the clinic's day begins
(`kernel.rest.clinic_midnight`). Read from the apps' source, so that a second copy fails
here wherever it is written."""

import ast
from collections.abc import Iterator

import pytest
from rest_framework.test import APIRequestFactory

from accounts.services import SignInRefused
from appointments import models as appointment_models
from appointments.models import Status
from kernel.errors import CONFLICT, STATUS_BY_CODE, DomainError, api_exception_handler, status_for
from tests.clinic.test_layering import APPS, ROOT
from tests.factories import PractitionerFactory, UserFactory

# The refusals of the domain: calls to these make a DomainError.
REFUSALS = {"DomainError", SignInRefused.__name__}
NAMED_STATUS_SETS = {
    name: frozenset(value)
    for name, value in vars(appointment_models).items()
    if name.endswith("_STATUSES")
}


def app_modules() -> Iterator[tuple[str, ast.Module]]:
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())


MODULES = dict(app_modules())


def nodes(kind: type) -> Iterator[tuple[str, ast.AST]]:
    for name, module in MODULES.items():
        for node in ast.walk(module):
            if isinstance(node, kind):
                yield name, node


def refusal_calls() -> Iterator[tuple[str, ast.Call]]:
    for module, call in nodes(ast.Call):
        called = call.func
        if isinstance(called, ast.Name) and called.id in REFUSALS:
            yield module, call
        elif isinstance(called, ast.Attribute) and getattr(called.value, "id", None) in REFUSALS:
            yield module, call  # DomainError.invalid(...)


def where(module: str, node: ast.AST) -> str:
    return f"{module}:{node.lineno}"


# --- the status of a refusal ------------------------------------------------------------


def test_no_refusal_chooses_its_own_status():
    chosen = [
        where(module, call)
        for module, call in refusal_calls()
        if any(keyword.arg == "status" for keyword in call.keywords)
    ]

    assert chosen == []
    with pytest.raises(TypeError):
        DomainError("slot_unavailable", "Taken.", status=400)  # type: ignore[call-arg]


def test_every_code_given_a_status_is_one_the_apps_raise():
    """A code renamed in a service but not in the table would fall back to 409 unnoticed."""
    raised = {raised_code(call) for _, call in refusal_calls()}

    assert set(STATUS_BY_CODE) - raised == set()


def raised_code(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return "invalid"  # DomainError.invalid(field, messages)
    first = call.args[0] if call.args else None
    return first.value if isinstance(first, ast.Constant) else None


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("not_front_desk", 403),
        ("own_care_assignment", 403),
        ("not_treating_practitioner", 403),
        ("invalid", 400),
        ("identity_locked", 400),
        ("idempotency_key_reused", 422),
        ("no_active_account", 401),
        ("locked_out", 429),
        ("slot_unavailable", 409),
        ("not_the_author", 409),
    ],
)
def test_the_api_answers_a_refusal_with_the_status_of_its_kind(code, status):
    request = APIRequestFactory().get("/api/v1/")

    answer = api_exception_handler(DomainError(code, "Refused."), {"request": request})

    assert status_for(code) == DomainError(code, "Refused.").status_code == status
    assert (answer.status_code, answer.data["code"]) == (status, code)


def test_a_code_of_no_listed_kind_conflicts_with_the_state_of_things():
    assert status_for("some_new_rule") == CONFLICT == 409


# --- the named sets of appointment statuses ---------------------------------------------


def spelled_status_sets() -> Iterator[tuple[str, ast.AST, frozenset[str]]]:
    for module, node in nodes(ast.Tuple | ast.List | ast.Set):
        members = [
            element.attr
            for element in node.elts
            if isinstance(element, ast.Attribute) and getattr(element.value, "id", "") == "Status"
        ]
        if len(members) >= 2 and len(members) == len(node.elts):
            yield module, node, frozenset(Status[member] for member in members)


def test_a_named_set_of_statuses_is_spelled_only_where_it_is_named():
    copies = [
        f"{where(module, node)} spells {name}"
        for module, node, statuses in spelled_status_sets()
        if module != "appointments/models.py"
        for name, named in NAMED_STATUS_SETS.items()
        if statuses == named
    ]

    assert {"OCCUPYING_STATUSES", "CANCELLED_STATUSES", "UPCOMING_STATUSES"} <= set(
        NAMED_STATUS_SETS
    )
    assert copies == []


# --- a user's name ----------------------------------------------------------------------


def test_name_or_email_is_decided_only_by_the_user():
    """(A patient's message names the practitioner otherwise: never by their email.)"""
    copies = [
        where(module, node)
        for module, node in nodes(ast.BoolOp)
        if isinstance(node.op, ast.Or)
        and isinstance(node.values[0], ast.Call)
        and getattr(node.values[0].func, "attr", "") == "get_full_name"
        and getattr(node.values[1], "attr", "") == "email"
        and module != "accounts/models.py"
    ]

    assert copies == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "last", "named"), [("Mia", "Myo", "Mia Myo"), ("", "", "mia@clinic.example")]
)
def test_a_user_and_their_practitioner_record_go_by_one_name(first, last, named):
    user = UserFactory(email="mia@clinic.example", first_name=first, last_name=last)
    practitioner = PractitionerFactory(user=user)

    assert user.display_name == str(user) == str(practitioner) == named


# --- the clinic's midnight --------------------------------------------------------------


def test_the_clinics_midnight_is_worked_out_in_one_place():
    copies = [
        where(module, node)
        for module, node in nodes(ast.Call)
        if getattr(node.func, "attr", "") == "combine"
        and any(
            keyword.arg == "tzinfo"
            and getattr(getattr(keyword.value, "func", None), "attr", "") == "get_default_timezone"
            for keyword in node.keywords
        )
    ]
    midnights = [
        where(module, node)
        for module, node in nodes(ast.FunctionDef)
        if "midnight" in node.name and module != "kernel/rest.py"
    ]

    assert [copy.split(":")[0] for copy in copies] == ["kernel/rest.py"]
    assert midnights == []
