"""Clinical records in the admin: intake answers and red flags, plans, session notes with
their exercise logs and addenda, outcome measures.

For practitioners (the records of the patients they treat) and managers (everyone's, to
read; plans, to adjust); reception holds no permission here, so every page is 403 to it.

- Who sees which records: every queryset starts from `treatments.selectors`.
- What changes state: `treatments.services`, called here and never re-implemented. Intake
  answers are kept as submitted (a staff member may enter a new one, `submit_intake`); a
  clearance is `clear_red_flags`; a plan is started with `create_plan`, moved along the
  pathway with `move_plan_to_phase` and edited with `update_plan`; a note is started with
  `start_note`, its draft saved (with the exercise log) by `update_draft`, signed by
  `sign_note` and amended by `add_addendum`; scores go through `record_pain`/`record_odi`.
- Only its author edits a draft; a signed note is shown read-only, inlines included, and
  nothing here deletes a clinical record. A refusal — a `DomainError` of the services, or an
  `IntegrityError` of the database's own guards (the triggers that make signed notes final)
  — is shown as a message, never as a server error.
- Lists and pages read a fixed number of queries whatever the rows (select/prefetch).
- Every page and list shown, and every change, is audited (`audit.admin.AuditedAdmin`); the
  pages that change records through their own views log the change inside the
  transaction of the change.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit.mixins import AuditedAdmin
from kernel.errors import DomainError
from kernel.rest import whole_id
from practice.models import Practitioner

from .admin_forms import (
    ODI_LABELS,
    AddendumForm,
    ClearanceForm,
    NoteStartForm,
    OutcomeMeasureForm,
    PlanStartForm,
)
from .models import (
    ODI_SECTIONS,
    Addendum,
    ExerciseEntry,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanPhase,
    PlanStatus,
    PostureFinding,
    RedFlag,
    SciaticaSymptom,
    SymptomLocation,
    TreatedRegion,
    TreatmentNote,
    TreatmentPlan,
)
from .selectors import (
    clinical_patients_for,
    intakes_for,
    may_clear_red_flags,
    notes_for,
    open_red_flag_intakes,
    outcomes_for,
    plans_for,
    red_flags_a_clearance_would_cover,
)
from .services import (
    EXERCISE_FIELDS,
    NOTE_FIELDS,
    add_addendum,
    clear_red_flags,
    create_plan,
    move_plan_to_phase,
    record_odi,
    record_pain,
    sign_note,
    start_note,
    submit_intake,
    update_draft,
    update_plan,
)

INTAKE_ANSWERS = (
    "complaint",
    "symptom_locations",
    "sciatica_symptoms",
    "pain_score",
    "duration",
    "activity",
    "goals",
    "red_flags",
)
RED = "color: #ba2121; font-weight: bold"


# --- shared --------------------------------------------------------------------------------


def refusal_text(refusal: Exception) -> str:
    if isinstance(refusal, DomainError):
        return refusal.detail
    if "signed" in str(refusal) or "final" in str(refusal):
        return "A signed note, its exercise log and its addenda are final: add an addendum."
    return "The database refused the change: it conflicts with the records already kept."


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


class NotePatientFilter(PatientFilter):
    patient_id_field = "appointment__patient_id"


def _adopt(obj, saved) -> None:
    """Give the admin's unsaved object the row a service saved, so that the admin's
    messages and redirects name it."""
    for field in saved._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


def _labels(choices, values) -> str:
    return ", ".join(str(choices(value).label) for value in values) or "—"


def _patient_asked_for(request: HttpRequest) -> int | None:
    """`?patient=<id>` of the patient page's "add" links, when it is a number."""
    return whole_id(request.GET.get("patient"))


class PatientFromQuery:
    """An add form's patient preset from `?patient=<id>` (a malformed value is ignored)."""

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("patient", None)
        if (patient := _patient_asked_for(request)) is not None:
            initial["patient"] = patient
        return initial


class KeptAsRecorded(PatientFromQuery):
    """Records entered once and then kept as they were (intake answers, outcome scores):
    a correction is a new record. Entered only for patients the user treats."""

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


def _practitioner_of(request: HttpRequest) -> Practitioner | None:
    return getattr(request.user, "practitioner", None)


def _patient_link(patient) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:patients_patient_change", args=[patient.pk]), patient
    )


def _red_flags_html(intake: Intake) -> str:
    """`intake` comes from `intakes_for`, which says whether a clearance covers it."""
    if not intake.red_flags:
        return "None"
    reasons = _labels(RedFlag, intake.red_flags)
    clearance = getattr(intake, "clearance", None)
    if not intake.red_flags_covered:
        return format_html('<span class="red-flags-open" style="{}">⚠ {}</span>', RED, reasons)
    if clearance is None:
        return format_html(
            '<span class="red-flags-cleared">{} — cleared by the clearance of a later intake'
            "</span>",
            reasons,
        )
    return format_html(
        '<span class="red-flags-cleared">{} — cleared {} by {}</span>',
        reasons,
        f"{clearance.cleared_on:%d/%m/%Y}",
        clearance.cleared_by.display_name,
    )


# --- intake and red flags ------------------------------------------------------------------


class RedFlagFilter(admin.SimpleListFilter):
    title = "red flags"
    parameter_name = "red_flags"

    def lookups(self, request, model_admin):
        return [("open", "Not cleared"), ("cleared", "Cleared"), ("none", "None raised")]

    def queryset(self, request, queryset):
        match self.value():
            case "open":
                return open_red_flag_intakes(queryset)
            case "cleared":
                return queryset.exclude(red_flags=[]).filter(red_flags_covered=True)
            case "none":
                return queryset.filter(red_flags=[])
        return queryset


@admin.register(Intake)
class IntakeAdmin(AuditedAdmin, RefusalsAsMessages, KeptAsRecorded, admin.ModelAdmin):
    """The questionnaire as the patient answered it, read-only; red flags stand out, and a
    practitioner records their clearance (a button here, or the list's action)."""

    list_display = [
        "patient_name",
        "submitted_at",
        "pain_score",
        "duration",
        "activity",
        "red_flag_status",
    ]
    list_filter = [RedFlagFilter, PatientFilter, "duration", "activity"]
    search_fields = ["patient__first_name", "patient__last_name"]
    ordering = ["-submitted_at", "-pk"]
    autocomplete_fields = ["patient"]
    actions = ["clear_selected"]
    change_form_template = "admin/treatments/intake/change_form.html"
    readonly_fields = [
        "patient_link",
        "submitted_at",
        "entered_by_name",
        "red_flag_status",
        "clearance_note",
        "complaint",
        "symptom_locations_shown",
        "sciatica_symptoms_shown",
        "pain_score",
        "duration",
        "activity",
        "goals",
    ]

    def get_queryset(self, request):
        return intakes_for(request.user).select_related("entered_by", "clearance__cleared_by")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # entering a questionnaire for a patient
            return [
                (None, {"fields": ["patient"]}),
                ("Answers", {"fields": [n for n in INTAKE_ANSWERS if n != "red_flags"]}),
                ("Red flags: does the patient need a physician first?", {"fields": ["red_flags"]}),
            ]
        return [
            (None, {"fields": ["patient_link", "submitted_at", "entered_by_name"]}),
            ("Red flags", {"fields": ["red_flag_status", "clearance_note"]}),
            (
                "Answers",
                {
                    "fields": [
                        "complaint",
                        "symptom_locations_shown",
                        "sciatica_symptoms_shown",
                        "pain_score",
                        "duration",
                        "activity",
                        "goals",
                    ]
                },
            ),
        ]

    def has_clear_permission(self, request, intake: Intake | None = None) -> bool:
        """Whether the user may clear red flags at all (the list's action) or this intake's
        (`may_clear_red_flags`, which the service asks again)."""
        if not request.user.has_perm("treatments.add_redflagclearance"):
            return False
        if intake is not None:
            return may_clear_red_flags(request.user, intake.patient)
        return _practitioner_of(request) is not None

    def save_model(self, request, obj, form, change):
        answers = {name: form.cleaned_data[name] for name in INTAKE_ANSWERS}
        intake = submit_intake(
            patient=form.cleaned_data["patient"], answers=answers, entered_by=request.user
        )
        _adopt(obj, intake)

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, intake: Intake) -> str:
        return str(intake.patient)

    @admin.display(description="patient")
    def patient_link(self, intake: Intake) -> str:
        return _patient_link(intake.patient)

    @admin.display(description="entered by")
    def entered_by_name(self, intake: Intake) -> str:
        if intake.entered_by is None:
            return "The patient, online"
        return intake.entered_by.display_name

    @admin.display(description="red flags")
    def red_flag_status(self, intake: Intake) -> str:
        return _red_flags_html(intake)

    @admin.display(description="clearance")
    def clearance_note(self, intake: Intake) -> str:
        clearance = getattr(intake, "clearance", None)
        if clearance is None:
            return "Not cleared" if intake.red_flags else "—"
        return format_html(
            "{}<br><span class='help'>Recorded {} by {}</span>",
            clearance.note,
            f"{timezone.localtime(clearance.recorded_at):%d/%m/%Y %H:%M}",
            clearance.cleared_by.display_name,
        )

    @admin.display(description="symptom locations")
    def symptom_locations_shown(self, intake: Intake) -> str:
        return _labels(SymptomLocation, intake.symptom_locations)

    @admin.display(description="sciatica symptoms")
    def sciatica_symptoms_shown(self, intake: Intake) -> str:
        return _labels(SciaticaSymptom, intake.sciatica_symptoms)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_clear"] = bool(
                self.has_clear_permission(request, obj) and red_flags_a_clearance_would_cover(obj)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/clear-red-flags/",
                self.admin_site.admin_view(self.clear_view),
                name="treatments_intake_clear",
            ),
            *super().get_urls(),
        ]

    def clear_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_clear_permission(request):
            raise PermissionDenied
        intake = self.get_object(request, object_id)
        if intake is None:
            raise Http404("No such intake among the patients you treat.")
        if not self.has_clear_permission(request, intake):
            raise PermissionDenied
        return self._clearance_page(request, [intake], from_list=False)

    @admin.action(description="Record a red-flag clearance", permissions=["clear"])
    def clear_selected(self, request, queryset: QuerySet[Intake]):
        return self._clearance_page(request, list(queryset.order_by("pk")), from_list=True)

    def _clearance_page(self, request, intakes: list[Intake], *, from_list: bool):
        confirmed = request.method == "POST" and "clear" in request.POST
        form = ClearanceForm(
            request.POST if confirmed else None, initial={"cleared_on": timezone.localdate()}
        )
        if confirmed and form.is_valid():
            cleared = 0
            for intake in intakes:
                try:
                    with transaction.atomic():
                        clear_red_flags(
                            intake=intake,
                            cleared_by=request.user,
                            cleared_on=form.cleaned_data["cleared_on"],
                            note=form.cleaned_data["note"],
                        )
                        self.log_change(request, intake, "Red flags cleared.")
                except DomainError as refusal:
                    messages.error(request, f"{intake.patient}: {refusal.detail}")
                else:
                    cleared += 1
            if cleared:
                messages.success(request, f"Red flags cleared on {cleared} intake(s).")
            if from_list:
                return None  # back to the list
            return HttpResponseRedirect(
                reverse("admin:treatments_intake_change", args=[intakes[0].pk])
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Record a red-flag clearance",
            "form": form,
            "media": self.media + form.media,
            "intakes": [(intake, _red_flags_html(intake)) for intake in intakes],
            "from_list": from_list,
        }
        return TemplateResponse(request, "admin/treatments/intake/clear.html", context)


# --- treatment plans -----------------------------------------------------------------------


class PlanPhaseInline(admin.TabularInline):
    model = PlanPhase
    fields = ["phase", "planned_sessions", "sessions_per_week", "started_on", "ended_on"]
    # The dates are the pathway's: moving the plan to a phase sets them.
    readonly_fields = ["started_on", "ended_on"]
    extra = 0
    max_num = len(Phase)  # each phase of the pathway once
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("pk")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class PhaseFormSet(formset):
            def _construct_form(self, i, **form_kwargs):
                form = super()._construct_form(i, **form_kwargs)
                if form.instance.pk:  # a phase planned stays that phase
                    form.fields["phase"].disabled = True
                return form

        return PhaseFormSet


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AuditedAdmin, RefusalsAsMessages, admin.ModelAdmin):
    list_display = [
        "patient_name",
        "practitioner",
        "current_phase",
        "phase_since",
        "status",
        "maintenance_interval_weeks",
        "created_at",
    ]
    list_filter = ["status", "current_phase", PatientFilter]
    search_fields = ["patient__first_name", "patient__last_name"]
    ordering = ["-created_at", "-pk"]
    inlines = [PlanPhaseInline]
    actions = ["move_to_release", "move_to_strengthen", "move_to_maintain"]
    fields = [
        "patient_link",
        "practitioner",
        "goals",
        "status",
        "current_phase",
        "maintenance_interval_weeks",
        "maintenance_started_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "patient_link",
        "practitioner",
        "current_phase",
        "maintenance_started_at",
        "created_at",
        "updated_at",
    ]
    change_form_template = "admin/treatments/treatmentplan/change_form.html"

    def get_queryset(self, request):
        return plans_for(request.user)

    def has_add_permission(self, request) -> bool:
        # A plan is the practitioner's who starts it.
        return super().has_add_permission(request) and _practitioner_of(request) is not None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, plan: TreatmentPlan) -> str:
        return str(plan.patient)

    @admin.display(description="patient")
    def patient_link(self, plan: TreatmentPlan) -> str:
        return _patient_link(plan.patient)

    @admin.display(description="in this phase since")
    def phase_since(self, plan: TreatmentPlan) -> str:
        for phase in plan.phases.all():  # prefetched
            if phase.phase == plan.current_phase and phase.started_on:
                return f"{phase.started_on:%d/%m/%Y}"
        return "—"

    # Starting a plan: the services' create_plan, from a form of its own.
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PlanStartForm(
            request.POST if request.method == "POST" else None,
            initial={"patient": _patient_asked_for(request)},
            user=request.user,
        )
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    plan = create_plan(
                        patient=form.cleaned_data["patient"],
                        practitioner=_practitioner_of(request),
                        goals=form.cleaned_data["goals"],
                        phases=form.phases(),
                        maintenance_interval_weeks=form.cleaned_data["maintenance_interval_weeks"],
                    )
                    self.log_addition(request, plan, "Plan started.")
            except DomainError as refusal:
                form.add_error(None, refusal.detail)
            else:
                messages.success(request, f"Treatment plan started for {plan.patient}.")
                return HttpResponseRedirect(
                    reverse("admin:treatments_treatmentplan_change", args=[plan.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Start a treatment plan",
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/treatments/treatmentplan/start.html", context)

    # Editing goals, status and the maintenance interval: the services' update_plan, after
    # the phases' planned sessions (so that closing the plan ends its current phase last).
    def save_model(self, request, obj, form, change):
        pass  # saved in save_related

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        _adopt(form.instance, update_plan(plan=form.instance, changes=changes, by=request.user))

    # Moving along the pathway: the services' move_plan_to_phase.
    def get_urls(self):
        return [
            path(
                "<path:object_id>/phase/<slug:phase>/",
                self.admin_site.admin_view(self.move_view),
                name="treatments_treatmentplan_move",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request: HttpRequest, object_id: str, phase: str) -> HttpResponse:
        if request.method != "POST":
            raise PermissionDenied
        plan = self.get_object(request, object_id)
        if plan is None:
            raise Http404("No such plan among the patients you treat.")
        if not self.has_change_permission(request, plan):
            raise PermissionDenied
        self._move(request, [plan], phase)
        return HttpResponseRedirect(
            reverse("admin:treatments_treatmentplan_change", args=[plan.pk])
        )

    @admin.action(description="Move the selected plans to Release", permissions=["change"])
    def move_to_release(self, request, queryset):
        self._move(request, queryset, Phase.RELEASE)

    @admin.action(description="Move the selected plans to Strengthen", permissions=["change"])
    def move_to_strengthen(self, request, queryset):
        self._move(request, queryset, Phase.STRENGTHEN)

    @admin.action(description="Move the selected plans to Maintain", permissions=["change"])
    def move_to_maintain(self, request, queryset):
        self._move(request, queryset, Phase.MAINTAIN)

    def _move(self, request, plans, phase: str) -> None:
        moved = 0
        for plan in plans:
            try:
                with transaction.atomic():
                    moved_plan = move_plan_to_phase(plan=plan, phase=phase, by=request.user)
                    self.log_change(
                        request, plan, f"Moved to {moved_plan.get_current_phase_display()}."
                    )
            except DomainError as refusal:
                messages.error(request, f"{plan.patient}: {refusal.detail}")
            else:
                moved += 1
        if moved:
            messages.success(request, f"{moved} plan(s) moved to {Phase(phase).label}.")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status == PlanStatus.ACTIVE:
            context["phase_moves"] = (
                [(phase.value, phase.label) for phase in Phase if phase != obj.current_phase]
                if self.has_change_permission(request, obj)
                else []
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- treatment notes -----------------------------------------------------------------------


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
class TreatmentNoteAdmin(AuditedAdmin, RefusalsAsMessages, admin.ModelAdmin):
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
        return super().has_add_permission(request) and _practitioner_of(request) is not None

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
            and _practitioner_of(request) is not None
        )

    @admin.display(description="session", ordering="appointment__start")
    def session(self, note: TreatmentNote) -> str:
        return f"{note.appointment.local_start:%a %d %b %Y %H:%M}"

    @admin.display(description="patient", ordering="appointment__patient__last_name")
    def patient_name(self, note: TreatmentNote) -> str:
        return str(note.appointment.patient)

    @admin.display(description="patient")
    def patient_link(self, note: TreatmentNote) -> str:
        return _patient_link(note.appointment.patient)

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
        return _labels(SymptomLocation, note.pain_locations)

    @admin.display(description="posture findings")
    def posture_findings_shown(self, note: TreatmentNote) -> str:
        return _labels(PostureFinding, note.posture_findings)

    @admin.display(description="regions treated")
    def regions_treated_shown(self, note: TreatmentNote) -> str:
        return _labels(TreatedRegion, note.regions_treated)

    # Starting a note: the services' start_note, for one of the practitioner's sessions.
    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        practitioner = _practitioner_of(request)
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

    # Saving a draft: the services' update_draft, the exercise log with it; then perhaps
    # sign_note, in the same transaction.
    def save_model(self, request, obj, form, change):
        pass  # saved with its exercise log in save_related

    def save_related(self, request, form, formsets, change):
        exercises = None
        for formset in formsets:
            if formset.model is ExerciseEntry:
                exercises = _exercise_rows(formset)
        author = _practitioner_of(request)
        if author is None:
            raise DomainError("not_the_author", "Only the note's author edits or signs a draft.")
        changes = {
            name: form.cleaned_data[name] for name in NOTE_FIELDS if name in form.cleaned_data
        }
        note = update_draft(note=form.instance, author=author, changes=changes, exercises=exercises)
        if "_sign" in request.POST:
            note = sign_note(note=note, author=author)
        _adopt(form.instance, note)

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
                        note=note, author=_practitioner_of(request), text=form.cleaned_data["text"]
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
        author = _practitioner_of(request)
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


# --- outcome measures ----------------------------------------------------------------------


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(AuditedAdmin, RefusalsAsMessages, KeptAsRecorded, admin.ModelAdmin):
    """Pain scores and ODI results, as recorded: a new one is entered here (an ODI as its ten
    answers), a recorded one is kept as it is."""

    form = OutcomeMeasureForm
    list_display = ["patient_name", "kind", "value_shown", "recorded_at", "recorded_by_name"]
    list_filter = ["kind", PatientFilter]
    search_fields = ["patient__first_name", "patient__last_name"]
    ordering = ["-recorded_at", "-pk"]
    autocomplete_fields = ["patient"]
    readonly_fields = [
        "patient_link",
        "kind",
        "value_shown",
        "recorded_at",
        "recorded_by_name",
        "session",
        "odi_answers_shown",
    ]

    def get_queryset(self, request):
        return outcomes_for(request.user).select_related("recorded_by", "appointment__location")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["patient", "kind", "recorded_at"]}),
                ("Pain", {"fields": ["pain"]}),
                (
                    "Oswestry Disability Index: each section 0 (no disability) to 5",
                    {"fields": [f"odi_{section}" for section in ODI_SECTIONS]},
                ),
            ]
        fields = [
            "patient_link",
            "kind",
            "value_shown",
            "recorded_at",
            "recorded_by_name",
            "session",
        ]
        if obj.kind == MeasureKind.ODI:
            fields.append("odi_answers_shown")
        return [(None, {"fields": fields})]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        common = {
            "patient": data["patient"],
            "by": request.user,
            "recorded_at": data["recorded_at"],
        }
        if data["kind"] == MeasureKind.PAIN:
            measure = record_pain(score=data["pain"], **common)
        else:
            measure = record_odi(answers=form.odi_answers(), **common)
        _adopt(obj, measure)

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, measure: OutcomeMeasure) -> str:
        return str(measure.patient)

    @admin.display(description="patient")
    def patient_link(self, measure: OutcomeMeasure) -> str:
        return _patient_link(measure.patient)

    @admin.display(description="value", ordering="value")
    def value_shown(self, measure: OutcomeMeasure) -> str:
        if measure.kind == MeasureKind.ODI:
            return f"{measure.value:.1f}%"
        return f"{measure.value:.0f}/10"

    @admin.display(description="recorded by")
    def recorded_by_name(self, measure: OutcomeMeasure) -> str:
        if measure.recorded_by is None:
            return "The patient"
        return measure.recorded_by.display_name

    @admin.display(description="session")
    def session(self, measure: OutcomeMeasure) -> str:
        if measure.appointment is None:
            return "—"
        return f"{measure.appointment.local_start:%a %d %b %Y %H:%M}"

    @admin.display(description="answers")
    def odi_answers_shown(self, measure: OutcomeMeasure) -> str:
        answers = measure.odi_answers or []
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td></tr>",
                (
                    (ODI_LABELS[section], "not answered" if answer is None else answer)
                    for section, answer in zip(ODI_SECTIONS, answers, strict=False)
                ),
            ),
        )
