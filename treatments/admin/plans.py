"""Treatment plans in the admin: started from a form of their own (`create_plan`), their
goals, status and phases' sessions edited (`update_plan`), moved along the pathway
(`move_plan_to_phase`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from audit.mixins import AuditedAdmin
from kernel.admin_access import NoAccessAdmin
from kernel.errors import DomainError

from ..admin_forms import PlanStartForm
from ..models import Phase, PlanPhase, PlanStatus, TreatmentPlan
from ..selectors import plans_for
from ..services import create_plan, move_plan_to_phase, update_plan
from .common import (
    PatientFilter,
    RefusalsAsMessages,
    patient_asked_for,
    patient_link,
    practitioner_of,
)


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

            def save_existing(self, form, obj, commit=True):
                # Only what the row's form edits: the phase's dates are the pathway's, and
                # `update_plan` (the admin's `save_model`, before the inlines) may have just
                # ended this phase.
                if commit:
                    obj.save(update_fields=form.changed_data)
                return obj

        return PhaseFormSet


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AuditedAdmin, NoAccessAdmin, RefusalsAsMessages, admin.ModelAdmin):
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
        "odi_every_weeks",
        "rmdq_every_weeks",
        "psfs_every_weeks",
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
        return super().has_add_permission(request) and practitioner_of(request) is not None

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, plan: TreatmentPlan) -> str:
        return str(plan.patient)

    @admin.display(description="patient")
    def patient_link(self, plan: TreatmentPlan) -> str:
        return patient_link(plan.patient)

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
            initial={"patient": patient_asked_for(request)},
            user=request.user,
        )
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    plan = create_plan(
                        patient=form.cleaned_data["patient"],
                        practitioner=practitioner_of(request),
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

    # Editing goals, status and the maintenance interval: the services' update_plan; the
    # phases' planned sessions are the inline's (`save_related`, as the admin does it).
    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        update_plan(plan=obj, changes=changes, by=request.user)

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
