"""The home programme in the admin: the clinic's exercise library (kept by practitioners and
managers), the exercises prescribed as part of a plan (`prescribe_home_exercise`, then kept
as prescribed: a change of dose is a new prescription, and one is taken off the programme
with the list's action, `stop_home_exercise`), and the patients' logs, to read."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from audit.mixins import AuditedAdmin
from kernel.admin_access import NoAccessAdmin
from kernel.errors import DomainError

from ..models import Exercise, HomeExercise, HomeExerciseLog, PlanStatus
from ..selectors import exercise_library, home_exercise_logs_for, home_exercises_for, plans_for
from ..services import prescribe_home_exercise, stop_home_exercise
from .common import KeptAsRecorded, PatientFilter, RefusalsAsMessages, patient_link


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    """The library. An exercise is retired (not active) rather than deleted: programmes and
    logs name it."""

    list_display = [
        "name",
        "category",
        "body_region",
        "default_sets",
        "default_reps",
        "default_load_kg",
        "active",
    ]
    list_filter = ["active", "category", "body_region"]
    search_fields = ["name"]
    ordering = ["name"]
    fields = [
        "name",
        "instructions",
        "category",
        "body_region",
        "default_sets",
        "default_reps",
        "default_load_kg",
        "active",
    ]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ProgrammePatientFilter(PatientFilter):
    patient_id_field = "plan__patient_id"


@admin.register(HomeExercise)
class HomeExerciseAdmin(
    AuditedAdmin, NoAccessAdmin, RefusalsAsMessages, KeptAsRecorded, admin.ModelAdmin
):
    list_display = [
        "patient_name",
        "exercise",
        "dose",
        "times_per_week",
        "started_on",
        "stopped_on",
        "prescribed_by",
    ]
    list_filter = [ProgrammePatientFilter, ("stopped_on", admin.EmptyFieldListFilter)]
    search_fields = ["plan__patient__first_name", "plan__patient__last_name", "exercise__name"]
    ordering = ["plan__patient__last_name", "started_on", "pk"]
    actions = ["stop_selected"]
    fields = [
        "plan",
        "exercise",
        "sets",
        "reps",
        "load_kg",
        "times_per_week",
        "notes",
        "started_on",
    ]
    readonly_fields = [
        "patient_link",
        "exercise",
        "sets",
        "reps",
        "load_kg",
        "times_per_week",
        "notes",
        "started_on",
        "stopped_on",
        "prescribed_by",
        "prescribed_at",
    ]
    # Left empty, the library's dose and today.
    OPTIONAL = ("sets", "reps", "started_on")

    def get_queryset(self, request):
        return home_exercises_for(request.user)

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        patient = initial.pop("patient", None)  # the patient page's link names the patient
        if patient is not None:
            plan = plans_for(request.user).filter(patient_id=patient, status=PlanStatus.ACTIVE)
            initial["plan"] = plan.values_list("pk", flat=True).first()
        return initial

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.OPTIONAL:
            field.required = False
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "plan":
            kwargs["queryset"] = plans_for(request.user).filter(status=PlanStatus.ACTIVE)
        if db_field.name == "exercise":
            kwargs["queryset"] = exercise_library()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def record(self, request: HttpRequest, form) -> HomeExercise:
        data = form.cleaned_data
        return prescribe_home_exercise(
            plan=data["plan"],
            exercise=data["exercise"],
            by=request.user,
            times_per_week=data["times_per_week"],
            sets=data.get("sets"),
            reps=data.get("reps"),
            load_kg=data.get("load_kg"),
            notes=data.get("notes", ""),
            started_on=data.get("started_on"),
        )

    @admin.display(description="patient", ordering="plan__patient__last_name")
    def patient_name(self, home_exercise: HomeExercise) -> str:
        return str(home_exercise.plan.patient)

    @admin.display(description="patient")
    def patient_link(self, home_exercise: HomeExercise) -> str:
        return patient_link(home_exercise.plan.patient)

    @admin.display(description="dose")
    def dose(self, home_exercise: HomeExercise) -> str:
        load = f" at {home_exercise.load_kg} kg" if home_exercise.load_kg is not None else ""
        return f"{home_exercise.sets}x{home_exercise.reps}{load}"

    @admin.action(description="Take the selected exercises off the programme", permissions=["stop"])
    def stop_selected(self, request, queryset):
        stopped = 0
        for home_exercise in queryset.filter(stopped_on__isnull=True):
            try:
                with transaction.atomic():
                    stop_home_exercise(home_exercise=home_exercise, by=request.user)
                    self.log_change(request, home_exercise, "Taken off the programme.")
            except DomainError as refusal:
                messages.error(request, f"{home_exercise}: {refusal.detail}")
            else:
                stopped += 1
        if stopped:
            messages.success(request, f"{stopped} exercise(s) taken off the programme.")

    def has_stop_permission(self, request) -> bool:
        # Stopping is the one change a prescription takes (the list's action).
        return request.user.has_perm("treatments.change_homeexercise")


@admin.register(HomeExerciseLog)
class HomeExerciseLogAdmin(AuditedAdmin, NoAccessAdmin, admin.ModelAdmin):
    """What patients logged of their home programmes (they write them, through the API)."""

    list_display = ["patient", "exercise", "done_on", "sets_done", "reps_done", "pain", "note"]
    list_filter = [PatientFilter]
    search_fields = ["patient__first_name", "patient__last_name", "exercise__name"]
    ordering = ["-done_on", "pk"]
    fields = [
        "patient",
        "exercise",
        "done_on",
        "sets_done",
        "reps_done",
        "pain",
        "note",
        "logged_at",
        "updated_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return home_exercise_logs_for(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
