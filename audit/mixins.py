"""What makes a view over patients' records write the audit log: `AuditedMixin` for the HTTP
API, `AuditedAdmin` for the admin. Who read or changed which patient's records, and from where.

`AuditedMixin` goes first among the bases of a view over patients' records. After a
successful answer it writes:

- for a GET, one READ entry per record the answer shows — those its serializer rendered (the
  object, or each row of the page), or those the view names with `audit_shown` when it
  renders something computed from them (a chart) — in one INSERT;
- for a change, a CREATE entry for a new record (201), or an UPDATE entry naming the fields
  whose answer changed (the names, never the values; a READ entry when none did, never an
  UPDATE that names nothing) since the record's before-image
  (`take_before_image`, which the mixin's `get_object` takes; a view with a `get_object` of
  its own calls it), in the transaction of the change: the mixin opens one around every
  unsafe request, so a change cannot commit without its entry, nor an entry claim a change
  that rolled back.
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

    def get_object(self) -> models.Model:
        """DRF's `get_object` (the record, once the caller may act on it), then its
        before-image."""
        obj = super().get_object()
        self.take_before_image(obj)
        return obj

    def take_before_image(self, obj: models.Model) -> None:
        """Before a change, remember the record as the client sees it, to name the fields
        the change touches. Call it once the caller may act on the record."""
        if self.request.method not in SAFE_METHODS:
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
                fields = _changed_fields(self._audit_before[1], response.data)
                # A change that changed nothing is no change: the answer showed the record.
                action = Action.UPDATE if fields else Action.READ
                if fields:
                    detail["fields"] = fields
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


class AuditedAdmin:
    """Goes first among the bases of a ModelAdmin. It writes a READ entry for a record's page
    (and one per row of a list page, in one INSERT), a CREATE entry when the admin logs an
    addition and an UPDATE entry when it logs a change — with the names of the fields the form
    changed (an inline counts as one field, e.g. `exercises`), or the action's name for the
    admin's own actions. The admin logs a change in the transaction of the change (pages that
    change records through their own views must log inside one too)."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and obj.pk is not None:
            record(Action.READ, request=request, obj=obj, detail={"path": request.path})
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # The page's own queryset: evaluated here, its rows are what the page renders.
            record_reads(request, changelist.result_list, detail={"path": request.path})
        return response

    def construct_change_message(self, request, form, formsets, add=False):
        self.remember_changes(request, form, formsets)
        return super().construct_change_message(request, form, formsets, add)

    def remember_changes(self, request, form, formsets) -> None:
        """The names of the fields the form changed, for the entry of `log_change`."""
        model_fields = {field.name for field in self.model._meta.get_fields()}
        request._audit_changed_fields = sorted(
            [name for name in form.changed_data if name in model_fields]
            + [formset.prefix for formset in formsets if formset.has_changed()]
        )

    def log_addition(self, request, obj, message):
        record(Action.CREATE, request=request, obj=obj, detail={"path": request.path})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        detail = {"path": request.path}
        fields = getattr(request, "_audit_changed_fields", None)
        if fields is not None:
            detail["fields"] = fields
        elif isinstance(message, str):
            detail["change"] = message  # the name of one of the admin's own actions
        record(Action.UPDATE, request=request, obj=obj, detail=detail)
        return super().log_change(request, obj, message)
