"""What the clinical admin's pages share: refusals shown as messages, the patient filter and
the patient preset of the patient page's links, and the rules of records kept as recorded."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from kernel.errors import DomainError
from kernel.rest import whole_id
from practice.models import Practitioner

from ..finality import FINAL_TRIGGERS
from ..selectors import clinical_patients_for


def refusal_text(refusal: DomainError | IntegrityError) -> str:
    """What the admin says of a refusal: the service's own words, or the database's guard
    that refused, known by the name it refuses under (`treatments.finality`)."""
    if isinstance(refusal, DomainError):
        return refusal.detail
    if refused_under(refusal) in FINAL_TRIGGERS:
        return "A signed note, its exercise log and its addenda are final: add an addendum."
    return "The database refused the change: it conflicts with the records already kept."


def refused_under(refusal: IntegrityError) -> str | None:
    """The name of the constraint or trigger that refused the write, as PostgreSQL reports
    it."""
    diagnostics = getattr(refusal.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None)


class RefusalsAsMessages:
    """A refusal while saving the admin's form becomes an error message and a fresh copy of
    the page; the transaction of the save is rolled back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, IntegrityError) as refusal:
            if request.method != "POST":
                raise
            messages.error(request, refusal_text(refusal))
            return HttpResponseRedirect(request.get_full_path())


class PatientFilter(admin.SimpleListFilter):
    """`?patient=<id>`, as the patient's page links here; lists that patient only."""

    title = "patient"
    parameter_name = "patient"
    patient_id_field = "patient_id"

    def lookups(self, request, model_admin):
        if (patient_id := whole_id(self.value())) is None:
            return []
        patient = clinical_patients_for(request.user).filter(pk=patient_id).first()
        return [(str(patient.pk), str(patient))] if patient else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if (patient_id := whole_id(self.value())) is None:
            return queryset.none()  # "²".isdigit() is true, but no id
        return queryset.filter(**{self.patient_id_field: patient_id})


def labels(choices, values) -> str:
    return ", ".join(str(choices(value).label) for value in values) or "—"


def patient_asked_for(request: HttpRequest) -> int | None:
    """`?patient=<id>` of the patient page's "add" links, when it is a number."""
    return whole_id(request.GET.get("patient"))


class PatientFromQuery:
    """An add form's patient preset from `?patient=<id>` (a malformed value is ignored)."""

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("patient", None)
        if (patient := patient_asked_for(request)) is not None:
            initial["patient"] = patient
        return initial


class KeptAsRecorded(PatientFromQuery):
    """Records entered once and then kept as they were (intake answers, outcome scores):
    a correction is a new record. Entered only for patients the user treats, and only
    through the service that records them (`record`).

    Django's admin goes on with the object `save_form` returns: `save_model` and
    `save_related` write it and what hangs off it, then the admin logs it and redirects to
    its page. Here `save_form` has the service record the form and returns the row it saved,
    so that row is the one logged and shown, and there is nothing left for the other two to
    write. (These pages have no inlines: nothing is left to validate once `save_form` runs.)"""

    def record(self, request: HttpRequest, form: forms.ModelForm) -> models.Model:
        raise NotImplementedError

    def save_form(self, request, form, change):
        form.instance = self.record(request, form)
        return form.instance

    def save_model(self, request, obj, form, change):
        """`obj` is the row the service saved (`save_form`)."""

    def save_related(self, request, form, formsets, change):
        """The service saved the whole record, and there are no inlines."""

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = clinical_patients_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def practitioner_of(request: HttpRequest) -> Practitioner | None:
    return getattr(request.user, "practitioner", None)


def patient_link(patient) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:patients_patient_change", args=[patient.pk]), patient
    )
