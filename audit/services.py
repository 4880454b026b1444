"""Writing the audit log. Views and services call these; nothing updates or deletes entries.

An entry is written in the caller's transaction: a change that rolls back leaves no entry
claiming it happened, and a change that commits cannot lose its entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.http import HttpRequest
from django.utils import timezone
from psycopg.types.json import Jsonb

from accounts.roles import Role, roles_of

from .models import Action, AuditEntry

# The role an entry names when its actor holds several: the one that reaches furthest.
_ROLE_PRECEDENCE = (Role.MANAGER, Role.PRACTITIONER, Role.RECEPTION, Role.PATIENT)
# How a record that does not name its patient reaches the one it belongs to: an addendum
# through its note, a clearance through its intake, a phase through its plan.
_PATIENT_PATHS = (
    ("patient_id",),
    ("appointment", "patient_id"),
    ("note", "patient_id"),
    ("intake", "patient_id"),
    ("plan", "patient_id"),
)


def source_address(request: HttpRequest | None) -> str | None:
    """The client's address. Behind a proxy that sets X-Forwarded-For (and is trusted to:
    AUDIT_TRUST_FORWARDED_FOR), the left-most address it reports."""
    if request is None:
        return None
    if settings.AUDIT_TRUST_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if first := forwarded.split(",")[0].strip():
            return first
    return request.META.get("REMOTE_ADDR") or None


def _actor(request: HttpRequest | None, actor) -> tuple[Any, str, str]:
    """The user, their e-mail and the role they act in."""
    user = actor if actor is not None else getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, "", ""
    roles = roles_of(user)
    role = next((role for role in _ROLE_PRECEDENCE if role in roles), "")
    return user, user.email, str(role)


def _object_type(obj: models.Model) -> str:
    return obj._meta.label_lower


def patient_id_of(obj: models.Model) -> int | None:
    """The patient whose record `obj` is (or is part of); None for anything else."""
    if obj._meta.label_lower == "patients.patient":
        return obj.pk
    for path in _PATIENT_PATHS:
        value: Any = obj
        for name in path:
            value = getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def _entry(
    action: str,
    obj: models.Model | None,
    who: tuple[Any, str, str],
    address: str | None,
    detail: dict | None,
    patient_id: int | None = None,
) -> AuditEntry:
    user, label, role = who
    if patient_id is None and obj is not None:
        patient_id = patient_id_of(obj)
    return AuditEntry(
        actor=user,
        actor_label=label,
        actor_role=role,
        action=action,
        object_type=_object_type(obj) if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=patient_id,
        source_ip=address,
        detail=detail or {},
    )


def record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor=None,
    obj: models.Model | None = None,
    patient_id: int | None = None,
    actor_label: str = "",
    detail: dict | None = None,
) -> AuditEntry:
    """One entry. `obj` gives the object and, where it has one, the patient it belongs to."""
    user, label, role = _actor(request, actor)
    entry = _entry(
        action, obj, (user, actor_label or label, role), source_address(request), detail, patient_id
    )
    entry.save()
    return entry


def record_each(
    action: str,
    objects: Iterable[models.Model],
    *,
    request: HttpRequest | None = None,
    actor=None,
    detail: dict | None = None,
) -> int:
    """One entry per object, all in one INSERT. Every read of a clinical list writes one, so
    it is a statement of one shape whatever the number of objects (the objects' columns go
    as three arrays): PostgreSQL prepares it once per connection, and no model instance is
    built per entry."""
    (user, label, role), address = _actor(request, actor), source_address(request)
    objects = list(objects)
    if not objects:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_EACH,
            [
                timezone.now(),
                user.pk if user is not None else None,
                label,
                role,
                action,
                address,
                Jsonb(detail or {}),
                [_object_type(obj) for obj in objects],
                [str(obj.pk) for obj in objects],
                [patient_id_of(obj) for obj in objects],
            ],
        )
    return len(objects)


_INSERT_EACH = f"""INSERT INTO "{AuditEntry._meta.db_table}"
        (at, actor_id, actor_label, actor_role, action, source_ip, detail,
         object_type, object_id, patient_id)
    SELECT %s, %s, %s, %s, %s, %s::inet, %s, object_type, object_id, patient_id
    FROM unnest(%s::text[], %s::text[], %s::bigint[]) AS entry(object_type, object_id, patient_id)
"""


def record_reads(
    request: HttpRequest, objects: Iterable[models.Model], *, detail: dict | None = None
) -> int:
    """One READ entry per object shown (a list of ten notes is ten entries), in one INSERT."""
    return record_each(Action.READ, objects, request=request, detail=detail)
