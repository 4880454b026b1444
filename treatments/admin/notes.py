"""Treatment notes in the admin: started for one of the practitioner's sessions
(`start_note`), written up with the exercise log while a draft (`update_draft`), signed
(`sign_note`), then read-only and amended by addenda (`add_addendum`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from audit.mixins import AuditedAdmin
from kernel.admin_access import NoAccessAdmin
from kernel.errors import DomainError
from kernel.rest import whole_id
from practice.models import Practitioner

from ..admin_forms import AddendumForm, NoteStartForm
from ..models import (
    Addendum,
    ExerciseEntry,
    PostureFinding,
    SymptomLocation,
    TreatedRegion,
    TreatmentNote,
)
from ..selectors import notes_for
from ..services import (
    EXERCISE_FIELDS,
    NOTE_FIELDS,
    add_addendum,
    sign_note,
    start_note,
    update_draft,
)
from .common import (
    PatientFilter,
    RefusalsAsMessages,
    labels,
    patient_link,
    practitioner_of,
)


class NotePatientFilter(PatientFilter):
    patient_id_field = "appointment__patient_id"


def _is_own_draft(request: HttpRequest, note: TreatmentNote | None) -> bool:
    return (
        note is not None
        and note.pk is not None
        and note.signed_at is None
        and note.author.user_id == request.user.pk
    )


class ExerciseInline(admin.TabularInline):
    """The NMPT exercise log: the author edits it with the draft, then it is final."""

    model = ExerciseEntry
    fields = ["exercise", "sets", "reps", "load_kg", "effort", "guarded", "comment"]
    verbose_name = "exercise"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("position", "pk")

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if _is_own_draft(request, obj) else 0

    def has_add_permission(self, request, obj=None) -> bool:
        return _is_own_draft(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return _is_own_draft(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Taking a line out of a draft's log (update_draft rewrites it); a signed log is final.
        return _is_own_draft(request, obj) and super().has_change_permission(request, obj)


class AddendumInline(admin.TabularInline):
    """A signed note's addenda, read-only: new ones come from the form under the note."""

    model = Addendum
    fields = ["created_at", "author", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author__user")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SignedFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("draft", "Draft"), ("signed", "Signed")]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(signed_at__isnull=True)
        if self.value() == "signed":
            return queryset.filter(signed_at__isnull=False)
        return queryset


class AuthorFilter(admin.SimpleListFilter):
    """By author, with the names in one query."""

    title = "author"
    parameter_name = "author"

    def lookups(self, request, model_admin):
        return [(str(p.pk), str(p)) for p in Practitioner.objects.select_related("user")]

    def queryset(self, request, queryset):
        if (author_id := whole_id(self.value())) is not None:
            return queryset.filter(author_id=author_id)
        return queryset


@admin.register(TreatmentNote)
class TreatmentNoteAdmin(AuditedAdmin, NoAccessAdmin, RefusalsAsMessages, admin.ModelAdmin):
    list_display = [
        "session",
        "patient_name",
        "service_name",
        "author",
        "pain_score",
        "exercise_count",
        "state",
    ]
    list_filter = [SignedFilter, AuthorFilter, NotePatientFilter]
    search_fields = ["appointment__patient__first_name", "appointment__patient__last_name"]
    ordering = ["-appointment__start", "-pk"]
    actions = ["sign_selected"]
    inlines = [ExerciseInline, AddendumInline]
    change_form_template = "admin/treatments/treatmentnote/change_form.html"
    readonly_fields = [
        "session",
        "patient_link",
        "service_name",
        "author",
        "state",
        "pain_locations_shown",
        "posture_findings_shown",
        "regions_treated_shown",
        "created_at",
        "updated_at",
        "signed_at",
    ]

    def get_queryset(self, request):
        # The note's name (the list's checkboxes label each row with it) names the session's
        # practitioner too.
        return notes_for(request.user).select_related("appointment__practitioner__user")

    def get_fieldsets(self, request, obj=None):
        editable = _is_own_draft(request, obj)
        return [
            ("Session", {"fields": ["session", "patient_link", "service_name", "author", "state"]}),
            (
                "Subjective",
                {
                    "fields": [
                        "subjective",
                        "pain_score",
                        "pain_locations" if editable else "pain_locations_shown",
                    ]
                },
            ),
            (
                "Objective",
                {
                    "fields": [
                        "posture_findings" if editable else "posture_findings_shown",
                        "regions_treated" if editable else "regions_treated_shown",
                        "objective",
                    ]
                },
            ),
            ("Assessment and plan", {"fields": ["assessment", "plan"]}),
            ("Record", {"fields": ["created_at", "updated_at", "signed_at"]}),
        ]

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        if obj is None or not obj.is_signed:
            inlines = [inline for inline in inlines if not isinstance(inline, AddendumInline)]
        return inlines

    def has_add_permission(self, request) -> bool:
        # A note is its author's: only a practitioner starts one.
        return super().has_add_permission(request) and practitioner_of(request) is not None

    def has_change_permission(self, request, obj=None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or _is_own_draft(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a clinical record is never deleted

    def has_addendum_permission(self, request, note: TreatmentNote) -> bool:
        return (
            note.is_signed
            and request.user.has_perm("treatments.add_addendum")
            and practitioner_of(request) is not None
        )

    @admin.display(description="session", ordering="appointment__start")
    def session(self, note: TreatmentNote) -> str:
        return f"{note.appointment.local_start:%a %d %b %Y %H:%M}"

    @admin.display(description="patient", ordering="appointment__patient__last_name")
    def patient_name(self, note: TreatmentNote) -> str:
        return str(note.appointment.patient)

    @admin.display(description="patient")
    def patient_link(self, note: TreatmentNote) -> str:
        return patient_link(note.appointment.patient)

    @admin.display(description="service")
    def service_name(self, note: TreatmentNote) -> str:
        return note.appointment.service.name

    @admin.display(description="exercises")
    def exercise_count(self, note: TreatmentNote) -> int:
        return len(note.exercises.all())  # prefetched

    @admin.display(description="state", ordering="signed_at")
    def state(self, note: TreatmentNote) -> str:
        if note.signed_at is None:
            return "Draft"
        signed = f"Signed {timezone.localtime(note.signed_at):%d/%m/%Y %H:%M}"
        addenda = len(note.addenda.all())  # prefetched
        return f"{signed}, {addenda} addend{'um' if addenda == 1 else 'a'}" if addenda else signed

    @admin.display(description="pain locations")
    def pain_locations_shown(self, note: TreatmentNote) -> str:
        return labels(SymptomLocation, note.pain_locations)

    @admin.display(description="posture findings")
    def posture_findings_shown(self, note: TreatmentNote) -> str:
        return labels(PostureFinding, note.posture_findings)

    @admin.display(description="regions treated")
    def regions_treated_shown(self, note: TreatmentNote) -> str:
        return labels(TreatedRegion, note.regions_treated)

    # Starting a note: the services' start_note, for one of the practitioner's sessions.
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        practitioner = practitioner_of(request)
        form = NoteStartForm(
            request.POST if request.method == "POST" else None,
            initial={"appointment": request.GET.get("appointment")},
            user=request.user,
        )
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    note = start_note(
                        appointment=form.cleaned_data["appointment"], author=practitioner
                    )
                    self.log_addition(request, note, "Draft started.")
            except DomainError as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, "Draft started: write it up, then save and sign.")
                return HttpResponseRedirect(
                    reverse("admin:treatments_treatmentnote_change", args=[note.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Start a treatment note",
            "form": form,
            "has_sessions": form.fields["appointment"].queryset.exists(),
        }
        return TemplateResponse(request, "admin/treatments/treatmentnote/start.html", context)

    # Saving a draft: the services' update_draft, for the note's answers (`save_model`) and
    # then its exercise log (`save_related`, where the admin saves inlines); then perhaps
    # sign_note, in the same transaction.
    def save_model(self, request, obj, form, change):
        changes = {
            name: form.cleaned_data[name] for name in NOTE_FIELDS if name in form.cleaned_data
        }
        update_draft(note=obj, author=self._author(request), changes=changes)

    def save_related(self, request, form, formsets, change):
        author = self._author(request)
        for log in (formset for formset in formsets if formset.model is ExerciseEntry):
            update_draft(
                note=form.instance, author=author, changes={}, exercises=_exercise_rows(log)
            )
        if "_sign" in request.POST:
            sign_note(note=form.instance, author=author)

    def _author(self, request: HttpRequest) -> Practitioner:
        author = practitioner_of(request)
        if author is None:
            raise DomainError("not_the_author", "Only the note's author edits or signs a draft.")
        return author

    def construct_change_message(self, request, form, formsets, add=False):
        self.remember_changes(request, form, formsets)  # the audit's: this saves its own way
        return "Signed." if "_sign" in request.POST else "Draft saved."

    def response_change(self, request, obj):
        if "_sign" in request.POST:
            messages.success(
                request, "The note is signed: it is final now; corrections go in an addendum."
            )
            return HttpResponseRedirect(
                reverse("admin:treatments_treatmentnote_change", args=[obj.pk])
            )
        return super().response_change(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_sign"] = _is_own_draft(request, obj)
            if self.has_addendum_permission(request, obj):
                context["addendum_form"] = AddendumForm()
        return super().render_change_form(request, context, add, change, form_url, obj)

    # Addenda: the services' add_addendum.
    def get_urls(self):
        return [
            path(
                "<path:object_id>/addendum/",
                self.admin_site.admin_view(self.addendum_view),
                name="treatments_treatmentnote_addendum",
            ),
            *super().get_urls(),
        ]

    def addendum_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            raise PermissionDenied
        note = self.get_object(request, object_id)
        if note is None:
            raise Http404("No such note among the patients you treat.")
        if not self.has_addendum_permission(request, note):
            raise PermissionDenied
        form = AddendumForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Write the addendum.")
        else:
            try:
                with transaction.atomic():
                    add_addendum(
                        note=note, author=practitioner_of(request), text=form.cleaned_data["text"]
                    )
                    self.log_change(request, note, "Addendum added.")
            except DomainError as refusal:
                messages.error(request, refusal.detail)
            else:
                messages.success(request, "Addendum added; the note stays as it was signed.")
        return HttpResponseRedirect(
            reverse("admin:treatments_treatmentnote_change", args=[note.pk])
        )

    @admin.action(description="Sign the selected drafts (your own)", permissions=["change"])
    def sign_selected(self, request, queryset):
        author = practitioner_of(request)
        if author is None:
            messages.error(request, "Only a note's author signs it.")
            return
        signed = 0
        for note in queryset:
            try:
                with transaction.atomic():
                    sign_note(note=note, author=author)
                    self.log_change(request, note, "Signed.")
            except DomainError as refusal:
                messages.error(
                    request, f"{note.appointment.patient}, {self.session(note)}: {refusal.detail}"
                )
            else:
                signed += 1
        if signed:
            messages.success(request, f"{signed} note(s) signed.")


def _exercise_rows(formset) -> list[dict]:
    """The exercise log as the formset leaves it: kept and new lines, in order."""
    deleted = set(map(id, formset.deleted_forms))
    return [
        {name: form.cleaned_data.get(name) for name in EXERCISE_FIELDS}
        for form in formset.forms
        if id(form) not in deleted and (form.instance.pk is not None or form.has_changed())
    ]
