"""The words of a message: the language its templates are written in and what they may read.

A template is rendered with plain strings, never a model: whatever a manager types, the
message can say a patient's first name, the visit's time and place and the clinic's links,
and nothing more (no password hashes, notes or intakes a model graph would reach). The
language is Django's, cut down to variables, a few text filters, `if` and `comment`; the
engine knows no other tag or filter (so no `load`, `include` or `debug`), and
`check_template` refuses a variable, a lookup or a filter outside the whitelist when the
template is saved. `message_context` builds the context and `render_message` fills a template
in, for sending and for the admin's preview alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import (
    Context,
    Engine,
    Library,
    Template,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.template.base import FilterExpression, Node, TextNode, Variable, VariableNode
from django.template.defaulttags import IfNode
from django.utils import timezone

from appointments.models import Appointment, Status
from patients.models import Patient
from treatments.models import HomeExercise
from treatments.selectors import programme_of

from .choices import Kind

# What every message may say, and what a message about an appointment may add.
PATIENT_VARIABLES = {
    "patient": "the patient's first name",
    "clinic": "the clinic's name",
    "book_url": "the link to book online",
}
APPOINTMENT_VARIABLES = {
    "start": "the start, e.g. Tuesday 01 December at 09:00 (the location's time)",
    "start_date": "the date, e.g. Tuesday 01 December",
    "start_time": "the time, e.g. 09:00",
    "service": "the service's name",
    "practitioner": "the practitioner's name",
    "location": "the location's name",
    "address": "the location's address",
    "manage_url": "the link to move or cancel the booking",
}
# A course's messages are about its first visit concerned, and list the visits: those
# booked (a confirmation), those cancelled together (a cancellation notice).
COURSE_VARIABLES = {"visits": "the visits concerned, one per line: date, time, practitioner"}
COURSE_KINDS = {Kind.COURSE_CONFIRMATION, Kind.COURSE_CANCELLED}
# A waitlist offer: a freed time, held for the patient until it expires.
OFFER_VARIABLES = {
    **{name: APPOINTMENT_VARIABLES[name] for name in APPOINTMENT_VARIABLES if name != "manage_url"},
    "offer_url": "the link to take or decline the offered time (no sign-in)",
    "expires": "when the offer ends, e.g. Tuesday 01 December at 09:00",
}
# A maintenance prompt may remind the patient of the home programme that keeps them well.
PROGRAMME_VARIABLES = {
    "programme": "the patient's home exercises, one per line (e.g. Bird dog: 3 x 8, "
    "3 times a week); empty for a patient without a programme",
}
APPOINTMENT_KINDS = {
    Kind.CONFIRMATION,
    Kind.REMINDER,
    Kind.RESCHEDULED,
    Kind.CANCELLED,
    *COURSE_KINDS,
}
ALLOWED_TAGS = {"if": defaulttags.do_if, "comment": defaulttags.comment}
ALLOWED_FILTERS = {
    name: getattr(defaultfilters, name)
    for name in ("default", "upper", "lower", "title", "capfirst")
}

register = Library()
for _name, _tag in ALLOWED_TAGS.items():
    register.tag(_name, _tag)
for _name, _filter in ALLOWED_FILTERS.items():
    register.filter(_name, _filter)


class _MessageEngine(Engine):
    # Engine adds Django's own tags and filters to any `builtins`; a message gets only ours.
    default_builtins: list[str] = []


# Messages are plain text (SMS, and emails without an HTML part): nothing is escaped.
MESSAGE_ENGINE = _MessageEngine(autoescape=False, builtins=[__name__])


def render_message(template: Template, values: dict[str, str]) -> str:
    """The exact text the patient reads: `template` filled in with `values`.

    `Template.render` takes its escaping from the `Context`, which escapes unless told not
    to, whatever the engine says ("Back Pain &amp; Sciatica", "O&#x27;Connor"): the context
    is made here, once, with the engine's setting."""
    return template.render(Context(values, autoescape=MESSAGE_ENGINE.autoescape)).strip()


def variables_for(kind: str) -> dict[str, str]:
    """The variables a template of `kind` may use, with what each one says."""
    if kind in COURSE_KINDS:
        return {**PATIENT_VARIABLES, **APPOINTMENT_VARIABLES, **COURSE_VARIABLES}
    if kind in APPOINTMENT_KINDS:
        return {**PATIENT_VARIABLES, **APPOINTMENT_VARIABLES}
    if kind == Kind.WAITLIST_OFFER:
        return {**PATIENT_VARIABLES, **OFFER_VARIABLES}
    if kind == Kind.MAINTENANCE_PROMPT:
        return {**PATIENT_VARIABLES, **PROGRAMME_VARIABLES}
    return dict(PATIENT_VARIABLES)


def check_template(source: str, *, kind: str) -> Template:
    """The compiled template, or a ValidationError that names what it may not use."""
    try:
        template = MESSAGE_ENGINE.from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationError(
            f"This template does not read: {error}. Tags: {', '.join(sorted(ALLOWED_TAGS))}; "
            f"filters: {', '.join(sorted(ALLOWED_FILTERS))}."
        ) from error
    _refuse_unclosed_tags(template)
    allowed = variables_for(kind)
    for variable in _variables_in(template.nodelist.get_nodes_by_type(Node)):
        if variable.lookups is None:  # a literal: "text" or 3
            continue
        name, *attributes = variable.lookups
        if name not in allowed:
            what = dict(Kind.choices).get(kind, "message").lower()
            raise ValidationError(
                f"Unknown variable {{{{ {variable.var} }}}}: "
                f"a {what} may use {', '.join(sorted(allowed))}."
            )
        if attributes:
            raise ValidationError(
                f"{{{{ {variable.var} }}}}: {name} is plain text, it has nothing to look up."
            )
    return template


# Django reads an opening it cannot match ("Hi {{ patient }", a tag broken over two lines) as
# plain text, which the patient would then receive.
_CLOSINGS = {"{{": "}}", "{%": "%}", "{#": "#}"}


def _refuse_unclosed_tags(template: Template) -> None:
    for node in template.nodelist.get_nodes_by_type(TextNode):
        for opening, closing in _CLOSINGS.items():
            if opening in node.s:
                start = node.s.index(opening)
                raise ValidationError(
                    f"This template does not read: {opening} without its {closing} (on one "
                    f"line) in “{node.s[start : start + 30].strip()}”."
                )


def _variables_in(nodes) -> list[Variable]:
    expressions: list[FilterExpression] = []
    for node in nodes:
        if isinstance(node, VariableNode):
            expressions.append(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, _nodelist in node.conditions_nodelists:
                expressions += _expressions_of_condition(condition)
    variables = []
    for expression in expressions:
        if isinstance(expression.var, Variable):
            variables.append(expression.var)
        variables += [arg for _lookup, arg in _filter_args(expression) if isinstance(arg, Variable)]
    return variables


def _filter_args(expression: FilterExpression):
    for _func, args in expression.filters:
        yield from args


def _expressions_of_condition(condition) -> list[FilterExpression]:
    """The expressions an `if` reads: a literal's value, an operator's operands."""
    if condition is None:  # {% else %}
        return []
    if isinstance(getattr(condition, "value", None), FilterExpression):
        return [condition.value]
    return [
        *_expressions_of_condition(getattr(condition, "first", None)),
        *_expressions_of_condition(getattr(condition, "second", None)),
    ]


@dataclass(frozen=True)
class Visit:
    """What a message may say about an appointment, as plain values."""

    start: datetime  # in the location's zone
    service: str
    practitioner: str
    location: str
    address: str


def visit_of(appointment: Appointment) -> Visit:
    user = appointment.practitioner.user
    return Visit(
        start=appointment.local_start,
        service=appointment.service.name,
        # Never the login email a practitioner without a name would otherwise show.
        practitioner=user.get_full_name() or "your practitioner",
        location=appointment.location.name,
        address=appointment.location.address,
    )


def programme_text(exercises: Iterable[HomeExercise]) -> str:
    """A home programme as a message says it: one exercise a line."""
    return "\n".join(
        f"{item.exercise.name}: {item.sets} x {item.reps}, {item.times_per_week} times a week"
        for item in exercises
    )


def message_context(
    *,
    first_name: str,
    visit: Visit | None,
    course: list[Visit] | None = None,
    programme: str | None = None,
) -> dict[str, str]:
    """The only values a message template sees: strings, for sending and preview alike."""
    context = {
        "patient": first_name,
        "clinic": settings.CLINIC_NAME,
        "book_url": settings.CLINIC_BOOKING_URL,
    }
    if visit is not None:
        context.update(
            start=f"{visit.start:%A %d %B at %H:%M}",
            start_date=f"{visit.start:%A %d %B}",
            start_time=f"{visit.start:%H:%M}",
            service=visit.service,
            practitioner=visit.practitioner,
            location=visit.location,
            address=visit.address,
            manage_url=settings.CLINIC_MANAGE_BOOKING_URL,
        )
    if course is not None:
        context["visits"] = "\n".join(
            f"{each.start:%A %d %B at %H:%M} with {each.practitioner}" for each in course
        )
    if programme is not None:
        context["programme"] = programme
    return context


def context_of(
    patient: Patient,
    appointment: Appointment | None,
    details: dict | None = None,
    *,
    kind: str = "",
    due_at: datetime | None = None,
) -> dict[str, str]:
    """What a message's template reads; `details`, the message's own values (a waitlist
    offer's), only as strings and only the names its kind may use; a course's messages
    (`kind`) list its visits concerned."""
    course = None
    if kind in COURSE_KINDS and appointment is not None:
        visits = Appointment.objects.filter(course_id=appointment.course_id)
        if kind == Kind.COURSE_CONFIRMATION:
            # Those still booked when it is sent: one cancelled meanwhile is not listed.
            visits = visits.filter(status=Status.BOOKED)
        else:
            # Those cancelled in the change it tells of: stamped with its moment.
            visits = visits.filter(cancelled_at=due_at)
        course = [
            visit_of(each)
            for each in visits.select_related("practitioner__user", "location", "service").order_by(
                "start"
            )
        ]
    programme = None
    if kind == Kind.MAINTENANCE_PROMPT:
        day = timezone.localdate(due_at) if due_at is not None else None
        programme = programme_text(programme_of(patient, day))
    context = message_context(
        first_name=patient.first_name,
        visit=visit_of(appointment) if appointment is not None else None,
        course=course,
        programme=programme,
    )
    for name, value in (details or {}).items():
        if name in OFFER_VARIABLES:
            context[name] = str(value)
    return context
