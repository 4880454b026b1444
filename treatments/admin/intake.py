"""The intake questionnaire in the admin: answers kept as the patient gave them, red flags
that stand out until a practitioner who treats the patient records a clearance."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from audit.mixins import AuditedAdmin
from kernel.admin_access import NoAccessAdmin
from kernel.errors import DomainError

from ..admin_forms import ClearanceForm
from ..models import Intake, RedFlag, SciaticaSymptom, SymptomLocation
from ..selectors import (
    intakes_for,
    may_clear_red_flags,
    open_red_flag_intakes,
    red_flags_a_clearance_would_cover,
)
from ..services import clear_red_flags, submit_intake
from .common import (
    KeptAsRecorded,
    PatientFilter,
    RefusalsAsMessages,
    labels,
    patient_link,
    practitioner_of,
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


def _red_flags_html(intake: Intake) -> str:
    """`intake` comes from `intakes_for`, which says whether a clearance covers it."""
    if not intake.red_flags:
        return "None"
    reasons = labels(RedFlag, intake.red_flags)
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
class IntakeAdmin(
    AuditedAdmin, NoAccessAdmin, RefusalsAsMessages, KeptAsRecorded, admin.ModelAdmin
):
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
        "start_back_shown",
    ]

    def get_queryset(self, request):
        return intakes_for(request.user).select_related(
            "entered_by", "clearance__cleared_by", "screening"
        )

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
            ("Risk screening", {"fields": ["start_back_shown"]}),
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
        return practitioner_of(request) is not None

    def record(self, request: HttpRequest, form) -> Intake:
        answers = {name: form.cleaned_data[name] for name in INTAKE_ANSWERS}
        return submit_intake(
            patient=form.cleaned_data["patient"], answers=answers, entered_by=request.user
        )

    @admin.display(description="STarT Back")
    def start_back_shown(self, intake: Intake) -> str:
        screening = getattr(intake, "screening", None)
        if screening is None:
            return "Not answered with this intake."
        return (
            f"{screening.get_risk_display()}: total {screening.total} of 9, psychosocial "
            f"{screening.psychosocial} of 5 ({screening.instrument_version})"
        )

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, intake: Intake) -> str:
        return str(intake.patient)

    @admin.display(description="patient")
    def patient_link(self, intake: Intake) -> str:
        return patient_link(intake.patient)

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
        return labels(SymptomLocation, intake.symptom_locations)

    @admin.display(description="sciatica symptoms")
    def sciatica_symptoms_shown(self, intake: Intake) -> str:
        return labels(SciaticaSymptom, intake.sciatica_symptoms)

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
