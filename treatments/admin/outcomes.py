"""Outcome measures in the admin: a pain score or a questionnaire's answers (ODI,
Roland-Morris, PSFS) entered once
(`treatments.measures.record_measure`, as the API records them), then kept as recorded."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from audit.mixins import AuditedAdmin
from kernel.admin_access import NoAccessAdmin

from ..admin_forms import ODI_LABELS, PSFS_FIELDS, RMDQ_FIELDS, OutcomeMeasureForm
from ..change import change_of
from ..measures import record_measure
from ..models import ODI_SECTIONS, MeasureKind, OutcomeMeasure
from ..selectors import outcomes_for, with_baselines
from .common import (
    KeptAsRecorded,
    PatientFilter,
    RefusalsAsMessages,
    patient_link,
)
from .report import OutcomesReportPages


@admin.register(OutcomeMeasure)
class OutcomeMeasureAdmin(
    AuditedAdmin,
    NoAccessAdmin,
    RefusalsAsMessages,
    KeptAsRecorded,
    OutcomesReportPages,
    admin.ModelAdmin,
):
    """Pain scores and ODI results, as recorded: a new one is entered here (an ODI as its ten
    answers), a recorded one is kept as it is. The clinic outcomes report, for managers, is
    on pages of its own here (`report.OutcomesReportPages`)."""

    form = OutcomeMeasureForm
    change_list_template = "admin/treatments/outcomemeasure/change_list.html"
    list_display = [
        "patient_name",
        "kind",
        "value_shown",
        "change_shown",
        "recorded_at",
        "recorded_by_name",
    ]
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
        "rmdq_answers_shown",
        "psfs_shown",
        "instrument_version",
        "change_shown",
    ]

    def get_queryset(self, request):
        return with_baselines(
            outcomes_for(request.user).select_related("recorded_by", "appointment__location")
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["patient", "kind", "recorded_at"]}),
                ("Pain", {"fields": ["pain"]}),
                (
                    "Oswestry Disability Index: each section 0 (no disability) to 5",
                    {"fields": [f"odi_{section}" for section in ODI_SECTIONS]},
                ),
                (
                    "Roland-Morris: each statement as numbered on the form, yes if it "
                    "describes the patient today (up to two may be left unanswered)",
                    {"fields": RMDQ_FIELDS, "classes": ["collapse"]},
                ),
                (
                    "Patient-Specific Functional Scale: 3 to 5 activities the patient "
                    "finds hard, each 0 (unable) to 10 (as before the problem)",
                    {"fields": PSFS_FIELDS, "classes": ["collapse"]},
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
        if obj.kind == MeasureKind.RMDQ:
            fields.append("rmdq_answers_shown")
        if obj.kind == MeasureKind.PSFS:
            fields.append("psfs_shown")
        return [(None, {"fields": [*fields, "instrument_version", "change_shown"]})]

    def record(self, request: HttpRequest, form: OutcomeMeasureForm) -> OutcomeMeasure:
        return record_measure(
            kind=form.cleaned_data["kind"],
            answers=form.answers(),
            patient=form.cleaned_data["patient"],
            by=request.user,
            recorded_at=form.cleaned_data["recorded_at"],
        )

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_name(self, measure: OutcomeMeasure) -> str:
        return str(measure.patient)

    @admin.display(description="patient")
    def patient_link(self, measure: OutcomeMeasure) -> str:
        return patient_link(measure.patient)

    @admin.display(description="value", ordering="value")
    def value_shown(self, measure: OutcomeMeasure) -> str:
        if measure.kind == MeasureKind.ODI:
            return f"{measure.value:.1f}%"
        if measure.kind == MeasureKind.RMDQ:
            return f"{measure.value.normalize():f}/24"
        if measure.kind == MeasureKind.PSFS:
            return f"{measure.value:.1f}/10"
        return f"{measure.value:.0f}/10"

    @admin.display(description="change from baseline")
    def change_shown(self, measure: OutcomeMeasure) -> str:
        change = change_of(measure)
        return "—" if change is None else change.label

    @admin.display(description="answers")
    def rmdq_answers_shown(self, measure: OutcomeMeasure) -> str:
        answers = measure.rmdq_answers or []
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}.</td><td>{}</td></tr>",
                (
                    (number, "not answered" if answer is None else ("yes" if answer else "no"))
                    for number, answer in enumerate(answers, start=1)
                ),
            ),
        )

    @admin.display(description="activities")
    def psfs_shown(self, measure: OutcomeMeasure) -> str:
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}/10</td></tr>",
                zip(measure.psfs_activities or [], measure.psfs_scores or [], strict=False),
            ),
        )

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
