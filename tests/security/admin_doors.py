"""Every door of the Django admin, read from `django.contrib.admin.site`, and the world the
admin matrix knocks on them in: the API matrix's clinic (personas.build_world) with the
admin's own callers and one object of every registered model.

The URLs come from the site itself (`admin.site.get_urls()` and each ModelAdmin's
`get_urls()`), the actions from each ModelAdmin (`_get_base_actions`, which lists every
action whatever the caller may do), so that a page or an action added to the admin is in
the matrix the day it is added.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from urllib.parse import urlparse

import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import transaction
from django.db.models import Model
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import SecurityPolicy, User
from accounts.permissions import ROLE_PERMISSIONS, sync_role_group
from audit.models import Action, AuditEntry
from notifications.models import (
    Channel,
    Kind,
    MessageTemplate,
    MessagingSettings,
    Reply,
    ReplyAction,
)
from patients.models import BreakGlassAccess, CareAssignment
from practice.models import BookingRules, ExtraHours, Leave, WorkingHours
from tests.factories import UserFactory
from tests.fixtures.clinic import NOW, TODAY
from tests.security.personas import MARKERS, MAY_READ, Persona, World, build_world
from treatments.models import ImportantChange, MeasureKind
from waitlist.models import OfferPolicy


class Caller(StrEnum):
    """Who knocks on the admin's doors: the API's personas that the admin tells apart, and
    a superuser (the Manager-group user is *not* one)."""

    ANONYMOUS = "anonymous"
    PATIENT = "patient"  # patient A: a login, not staff
    RECEPTION = "reception"
    PRACTITIONER = "practitioner"  # treats A
    OTHER_PRACTITIONER = "other_practitioner"  # does not treat A
    MANAGER = "manager"  # in the Manager group, not a superuser
    SUPERUSER = "superuser"


CALLERS = list(Caller)
# What each caller may read of A's data: as the API persona of the same role (a superuser
# counts as a manager).
READS_AS = {
    Caller.ANONYMOUS: Persona.ANONYMOUS,
    Caller.PATIENT: Persona.PATIENT_A,
    Caller.RECEPTION: Persona.RECEPTION,
    Caller.PRACTITIONER: Persona.PRACTITIONER,
    Caller.OTHER_PRACTITIONER: Persona.OTHER_PRACTITIONER,
    Caller.MANAGER: Persona.MANAGER,
    Caller.SUPERUSER: Persona.MANAGER,
}


def leaked_to(caller: Caller, content: bytes) -> list[str]:
    """A's markers in `content` that `caller` may not read."""
    allowed = MAY_READ[READS_AS[caller]]
    return [m for m, kind in MARKERS.items() if kind not in allowed and m.encode() in content]


# --- the world ---------------------------------------------------------------------------


@dataclass
class AdminWorld:
    world: World
    users: dict[Caller, User | None]
    # One object of each registered model: A's, or the treating practitioner's, so that a
    # caller not entitled to it shows whether the admin leaks across objects.
    targets: dict[type[Model], Model]
    colleague: User  # a member of staff with a two-factor device (someone else's phone)
    never_shown: list[str]  # what no page shows anyone: password hashes, a phone's secret
    _sessions: dict[Caller, str] = field(default_factory=dict)
    _forms: dict[str, tuple[dict[str, list[str]], set[str]]] = field(default_factory=dict)

    def client(self, caller: Caller) -> Client:
        """A browser signed in as `caller`, with the session made when the world was (each
        test's savepoint gives a logged-out session back)."""
        client = Client()
        if caller not in self._sessions and self.users[caller] is not None:
            client.force_login(self.users[caller])
            self._sessions[caller] = client.cookies[settings.SESSION_COOKIE_NAME].value
        if caller in self._sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self._sessions[caller]
        return client


def build_admin_world() -> AdminWorld:
    # A transactional test elsewhere may have flushed the migrations' groups: make each
    # role's group from the one definition before the world joins its members to it.
    for role_group in ROLE_PERMISSIONS:
        sync_role_group(role_group)
    world = build_world()
    practitioner = world.practitioner
    superuser = UserFactory(
        email="root@clinic.example", is_staff=True, is_superuser=True, first_name="Sol"
    )
    colleague = UserFactory(email="colleague@clinic.example", is_staff=True, first_name="Cole")
    colleague.groups.add(Group.objects.get(name="Reception"))
    device = TOTPDevice.objects.create(user=colleague, name="Cole's phone", confirmed=True)
    refresh = RefreshToken.for_user(world.patient_a.user)
    outstanding = OutstandingToken.objects.get(jti=refresh["jti"])
    location = world.future_visit.location
    reception = world.users[Persona.RECEPTION]
    targets: list[Model] = [
        Group.objects.get(name="Manager"),
        outstanding,
        BlacklistedToken.objects.create(token=outstanding),
        AccessAttempt.objects.create(
            username=world.patient_a.email, ip_address="203.0.113.9", failures_since_start=2
        ),
        AccessLog.objects.create(username=world.patient_a.email, ip_address="203.0.113.9"),
        AccessFailureLog.objects.create(username=world.patient_a.email, ip_address="203.0.113.9"),
        device,
        SecurityPolicy.current(),
        location,
        world.future_visit.room,
        world.myotherapy,
        practitioner,
        WorkingHours.objects.filter(practitioner=practitioner).order_by("pk").first(),
        Leave.objects.create(
            practitioner=practitioner,
            start=NOW + timedelta(days=14),
            end=NOW + timedelta(days=15),
            reason="Conference",
        ),
        ExtraHours.objects.create(
            practitioner=practitioner,
            location=location,
            date=TODAY + timedelta(days=5),
            start_time=time(18),
            end_time=time(20),
        ),
        BookingRules.current(),
        # The clinic's threshold of important change in pain (seeded by a migration).
        ImportantChange.objects.get(kind=MeasureKind.PAIN),
        AuditEntry.objects.create(
            actor=practitioner.user,
            actor_label=practitioner.user.email,
            actor_role="practitioner",
            action=Action.READ,
            object_type="patients.patient",
            object_id=str(world.patient_a.pk),
            patient=world.patient_a,
        ),
        world.patient_a,
        # A in her practitioner's care by reception's say (her bookings, made online and by
        # reception, put her there too).
        CareAssignment.objects.create(
            patient=world.patient_a, practitioner=practitioner, assigned_by=reception
        ),
        # The other practitioner broke the glass for A last month: long expired, so that
        # his cells show it opens nothing now, and the managers' review has a row of A's.
        BreakGlassAccess.objects.create(
            patient=world.patient_a,
            practitioner=world.other_practitioner,
            reason="Covering an evening session for a colleague",
            granted_at=NOW - timedelta(days=30),
            expires_at=NOW - timedelta(days=30) + timedelta(hours=settings.BREAK_GLASS_HOURS),
        ),
        world.future_visit,
        world.intake,
        world.plan,
        world.draft_note,
        world.pain,
        world.exercise,
        world.home_exercise,
        world.home_exercise_log,
        world.notification,
        # A's answer to it, waiting in reception's inbox.
        Reply.objects.create(
            provider_id="SM-admin-doors",
            sender="+61412000001",
            body="Can I come at 11 instead?",
            received_at=NOW,
            patient=world.patient_a,
            appointment=world.notification.appointment,
            in_reply_to=world.notification,
            action=ReplyAction.FOR_RECEPTION,
        ),
        MessageTemplate.objects.get_or_create(
            kind=Kind.CONFIRMATION, channel=Channel.EMAIL, defaults={"body": "Hello {{ patient }}"}
        )[0],
        MessagingSettings.current(),
        world.waitlist_entry,
        # A's entry offered a time by the desk (the world's live offer).
        world.waitlist_offer,
        OfferPolicy.objects.get_or_create(service=None)[0],
        world.group_class,
        world.class_place,
    ]
    users: dict[Caller, User | None] = {
        Caller.ANONYMOUS: None,
        Caller.PATIENT: world.users[Persona.PATIENT_A],
        Caller.RECEPTION: world.users[Persona.RECEPTION],
        Caller.PRACTITIONER: world.users[Persona.PRACTITIONER],
        Caller.OTHER_PRACTITIONER: world.users[Persona.OTHER_PRACTITIONER],
        Caller.MANAGER: world.users[Persona.MANAGER],
        Caller.SUPERUSER: superuser,
    }
    by_model = {type(target): target for target in targets}
    by_model[User] = world.patient_a.user  # whose page a user-admin door opens by default
    admin_world = AdminWorld(
        world=world,
        users=users,
        targets=by_model,
        colleague=colleague,
        never_shown=[superuser.password, colleague.password, device.key],
    )
    for caller in CALLERS:  # sign everyone in now, before any cell takes a fingerprint
        admin_world.client(caller)
    return admin_world


def admin_world_for_module(django_db_blocker) -> Iterator[AdminWorld]:
    """The body of a module-scoped fixture, as `personas.world_for_module`."""
    with (
        time_machine.travel(NOW, tick=False),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        yield build_admin_world()
        transaction.set_rollback(True)


# --- the doors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Door:
    """One URL of the admin: `key` is its URL name (or a name given here to the few the
    admin leaves unnamed), `model` the model whose ModelAdmin serves it (None: the site's
    own pages)."""

    key: str
    route: str
    model: type[Model] | None = None
    params: tuple[str, ...] = ()
    # A ModelAdmin's own page (changelist, add, change, delete, history, object), "extra"
    # for the pages of its get_urls(), "site" for the site's.
    kind: str = "site"

    def __str__(self) -> str:
        return self.key


MODEL_ADMIN_PAGES = {"changelist", "add", "change", "delete", "history", "object"}


def admin_doors() -> list[Door]:
    site = admin.site
    doors: list[Door] = []
    for pattern in site.get_urls():
        if isinstance(pattern, URLResolver):
            continue  # a ModelAdmin's: below
        route = str(pattern.pattern)
        if pattern.name == "app_list":
            # One pattern for every app: a door per app.
            labels = sorted({model._meta.app_label for model in site._registry})
            doors += [Door(f"app_list:{label}", route) for label in labels]
        elif pattern.name is None:
            doors.append(Door("catch_all", route))  # any other URL under /admin/
        else:
            doors.append(Door(pattern.name, route, params=tuple(pattern.pattern.converters)))
    for model, model_admin in site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}"
        for pattern in model_admin.get_urls():
            assert isinstance(pattern, URLPattern)
            # The one unnamed pattern, <object_id>/, redirects to the change page.
            key = pattern.name or f"{prefix}_object"
            kind = key.removeprefix(f"{prefix}_")
            if kind not in MODEL_ADMIN_PAGES:
                kind = "extra"
            params = tuple(pattern.pattern.converters)
            doors.append(Door(key, str(pattern.pattern), model, params, kind))
    keys = [door.key for door in doors]
    assert len(keys) == len(set(keys)), "two admin URLs share a name"
    return sorted(doors, key=lambda door: door.key)


@dataclass(frozen=True)
class ActionDoor:
    """One action of a changelist: `label` is the model's, e.g. "patients.patient"."""

    label: str
    name: str

    def __str__(self) -> str:
        return f"{self.label}:{self.name}"


def admin_actions() -> list[ActionDoor]:
    return sorted(
        (
            ActionDoor(model._meta.label_lower, name)
            for model, model_admin in admin.site._registry.items()
            for _function, name, _description in model_admin._get_base_actions()
        ),
        key=str,
    )


def model_admin_of(label: str) -> ModelAdmin:
    return next(ma for m, ma in admin.site._registry.items() if m._meta.label_lower == label)


# --- knocking ----------------------------------------------------------------------------

# What a URL's parameters are filled with, besides the target object's id.
SLUGS = {"change": "check-in", "phase": "strengthen"}


def path_of(door: Door, world: AdminWorld, caller: Caller) -> str:
    if door.key.startswith("app_list:"):
        return reverse("admin:app_list", kwargs={"app_label": door.key.split(":", 1)[1]})
    if door.key == "catch_all":
        return "/admin/no-such-page/"
    target = target_of(door, world, caller)
    kwargs: dict[str, str] = {}
    for name in door.params:
        if name in SLUGS:
            kwargs[name] = SLUGS[name]
        elif name == "content_type_id":
            kwargs[name] = str(ContentType.objects.get_for_model(world.world.patient_a).pk)
        else:  # object_id, pk, id: the target's
            kwargs[name] = str(target.pk)
    if door.kind == "object":
        change = reverse(f"admin:{door.key.removesuffix('_object')}_change", kwargs=kwargs)
        return change.removesuffix("change/")
    return reverse(f"admin:{door.key}", kwargs=kwargs)


# Doors whose object is not the model's default target.
TARGET_OVERRIDES = {
    # Notes: the addendum is for a signed note (the matrix's change cells use the draft).
    "treatments_treatmentnote_addendum": lambda w, caller: w.world.signed_note,
    # Another user's password form: the superuser's.
    "auth_user_password_change": lambda w, caller: w.users[Caller.SUPERUSER],
    # The escalation a user would try: their own user page (the superuser's for callers
    # without one).
    "accounts_user_change": lambda w, caller: w.users[caller] or w.users[Caller.SUPERUSER],
    "view_on_site": lambda w, caller: w.world.patient_a,
    # A is booked into her class already: she is booked into the open one.
    "appointments_groupclass_book": lambda w, caller: w.world.open_class,
}


def target_of(door: Door, world: AdminWorld, caller: Caller) -> Model | None:
    if door.key in TARGET_OVERRIDES:
        return TARGET_OVERRIDES[door.key](world, caller)
    if door.model is None:
        return None
    return world.targets[door.model]


def outcome_of(response: HttpResponse) -> str:
    """The status, with a redirect told apart by where it goes: `login` (not signed in as
    staff), `index` (to the index, saying "you don't have access to this" — or Django's "does
    not exist, perhaps it was deleted" on pages that do not say so: how the admin hides an
    object from a caller who may not see it), `glass` (a practitioner sent
    from a patient not in their care to "break the glass" for them, nothing done), or `302`
    (done, and on)."""
    if response.status_code != 302:
        return str(response.status_code)
    where = urlparse(response["Location"]).path
    if where == reverse("admin:login"):
        return "login"
    if where.endswith("/break-glass/") and where.startswith(
        reverse("admin:patients_patient_changelist")
    ):
        return "glass"
    said = " ".join(str(message) for message in get_messages(response.wsgi_request))
    hidden = ("Perhaps it was deleted?", "You don't have access to this")
    if where == reverse("admin:index") and any(words in said for words in hidden):
        return "index"
    return "302"


def action_outcome_of(response: HttpResponse) -> str:
    """`ran` (the action ran), `none` (it did not: no row was selected), `off` (the
    caller is not offered the action), or the status. An action offered to a caller who may
    not see the selected row runs on no rows: the database tells that apart."""
    outcome = outcome_of(response)
    if outcome in {"login", "403", "404"}:
        return outcome
    if "cl" in (getattr(response, "context_data", None) or {}):
        return "off"  # no action at all for the caller: the list is shown again
    said = " ".join(str(message) for message in get_messages(response.wsgi_request))
    if "No action selected" in said:
        return "off"
    if "Items must be selected" in said:
        return "none"
    return "ran"


# --- form bodies -------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """What a browser submits from the admin's change form (`<form id="<model>_form">`):
    text and hidden inputs, ticked boxes, the selected (or first) options, text areas."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.free_text: set[str] = set()
        self._select: tuple[str, bool, list[str], list[str]] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self.data.setdefault(name, []).append(attributes.get("value") or default)
        elif tag == "select" and name:
            self._select = (name, "multiple" in attributes, [], [])
        elif tag == "option" and self._select is not None:
            _, _, selected, first = self._select
            value = attributes.get("value", "")
            if not first:
                first.append(value)
            if "selected" in attributes:
                selected.append(value)
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]
            self.free_text.add(name)

    def handle_data(self, data):
        if self._textarea is not None:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, multiple, selected, first = self._select
            self.data[name] = selected or ([] if multiple else first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the newline that follows <textarea>.
            self.data[self._textarea][0] = self.data[self._textarea][0].removeprefix("\n")
            self._textarea = None


def form_as_submitted(
    world: AdminWorld, path: str, model: type[Model], *, edit_free_text: bool = False
) -> dict[str, list[str]]:
    """The change (or add) form at `path` as the superuser's browser would submit it, with
    " (changed)" added to every text area if `edit_free_text` (so that a save that goes
    through shows in the database); the page is read once per path."""
    if path not in world._forms:
        response = world.client(Caller.SUPERUSER).get(path)
        parser = _FormFields(f"{model._meta.model_name}_form")
        if response.status_code == 200:  # else nobody adds here (one row, or made elsewhere)
            parser.feed(response.content.decode())
        world._forms[path] = (parser.data, parser.free_text)
    data, free_text = world._forms[path]
    return {
        name: [values[0] + " (changed)"] if edit_free_text and name in free_text else list(values)
        for name, values in data.items()
    }


# --- the autocomplete ----------------------------------------------------------------------


def autocomplete_sources() -> dict[str, tuple[str, str, str]]:
    """The autocomplete answers any caller who names a registered model's foreign key: one
    door per model it can search (label -> the app, model and field of a key to it)."""
    sources: dict[str, tuple[str, str, str]] = {}
    registry = admin.site._registry
    for model in sorted(registry, key=lambda m: m._meta.label_lower):
        for model_field in model._meta.get_fields():
            remote = getattr(model_field, "related_model", None)
            if not (model_field.many_to_one or model_field.many_to_many) or remote not in registry:
                continue
            if not model_field.concrete or not registry[remote].search_fields:
                continue
            sources.setdefault(
                remote._meta.label_lower,
                (model._meta.app_label, model._meta.model_name, model_field.name),
            )
    return sources
