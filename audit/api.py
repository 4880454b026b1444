"""Auditing the HTTP API: who read or changed which patient's records, and from where.

`AuditedMixin` goes first among the bases of a view over patients' records. After a
successful answer it writes:

- for a GET, one READ entry per record the answer shows — those its serializer rendered (the
  object, or each row of the page), or those the view names with `audit_shown` when it
  renders something computed from them (a chart) — in one INSERT;
- for a change, a CREATE entry for a new record (201), or an UPDATE entry naming the fields
  whose answer changed (the names, never the values) since the view's `get_object` (which
  must call `check_object_permissions`, as DRF's does), in the transaction of the change:
  the mixin opens one around every unsafe request, so a change cannot commit without its
  entry, nor an entry claim a change that rolled back.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from django.db import models, transaction
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from .models import Action
from .services import record, record_reads

# Bookkeeping that changes with every save: not a change worth naming.
_NOT_CHANGES = frozenset({"updated_at"})


class AuditedMixin:
    def dispatch(self, request, *args, **kwargs):
        self._audit_shown: list[models.Model] | None = None
        self._audit_before: tuple[models.Model, dict[str, Any]] | None = None
        self._audit_transaction = ExitStack()
        with self._audit_transaction:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            # The caller may go on: from here to the answer's entry, all or nothing.
            self._audit_transaction.enter_context(transaction.atomic())

    def check_object_permissions(self, request, obj) -> None:
        """Once the caller may act on the record (`get_object` asks), remember it as the
        client sees it before a change, to name the fields the change touches."""
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS:
            self._audit_before = (obj, dict(self.get_serializer(obj).data))

    def audit_shown(self, *objects: models.Model) -> None:
        """The records this answer shows, when its serializer does not render them itself."""
        self._audit_shown = list(objects)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if status.is_success(response.status_code):
            self._audit(request, response)
        return response

    def _audit(self, request: Request, response: Response) -> None:
        shown = self._audit_shown if self._audit_shown is not None else _rendered(response.data)
        if not shown:
            return
        if request.method in SAFE_METHODS:
            record_reads(request, shown, detail={"path": request.path})
            return
        for obj in shown:
            detail: dict[str, Any] = {"path": request.path}
            if self._audit_before is not None and _same_record(self._audit_before[0], obj):
                action = Action.UPDATE
                detail["fields"] = _changed_fields(self._audit_before[1], response.data)
            elif response.status_code == status.HTTP_201_CREATED:
                action = Action.CREATE
            else:
                action = Action.UPDATE
            record(action, request=request, obj=obj, detail=detail)


def _rendered(data) -> list[models.Model]:
    """The model instances a serializer turned into `data`: one, or a page of them."""
    serializer = getattr(data, "serializer", None)
    if serializer is None and isinstance(data, dict):
        serializer = getattr(data.get("results"), "serializer", None)
    instance = getattr(serializer, "instance", None)
    if isinstance(instance, models.Model):
        return [instance]
    if isinstance(instance, list | tuple | models.QuerySet):
        return [obj for obj in instance if isinstance(obj, models.Model)]
    return []


def _same_record(a: models.Model, b: models.Model) -> bool:
    return a._meta.concrete_model is b._meta.concrete_model and a.pk == b.pk


def _changed_fields(before: dict[str, Any], after) -> list[str]:
    if not isinstance(after, dict):
        return []
    return sorted(
        name
        for name in before.keys() | after.keys()
        if name not in _NOT_CHANGES and before.get(name) != after.get(name)
    )
