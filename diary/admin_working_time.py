"""The manager's pages for working time — leave, the weekly rota with its breaks, extra
hours — saved and deleted through `appointments.services.change_working_time`, so that a
change that would leave booked patients outside working time lists them and asks what to
do with them. Registered here rather than in `practice` because the rule needs the diary."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from appointments.models import Appointment, ClashDecision
from appointments.services import change_working_time
from kernel.admin_query import ForgivingQueryAdmin
from kernel.errors import DomainError
from practice.models import Break, ExtraHours, Leave, WorkingHours


class WorkingTimeForm(forms.ModelForm):
    clash_decision = forms.ChoiceField(
        label="Bookings that would clash",
        choices=[("", "Ask me if there are any"), *ClashDecision.choices],
        required=False,
        help_text="If this change leaves booked patients outside the practitioner's working "
        "time, they are listed here when you save, and nothing is saved until you choose.",
    )
    # Set on the form's class for the page shown again after a refused save.
    refusal: DomainError | None = None

    def clean(self):
        cleaned = super().clean()
        refusal = self.refusal
        if refusal is not None:
            field = "clash_decision" if "clash_decision" in (refusal.fields or {}) else None
            if field is None or not cleaned.get("clash_decision"):
                self.add_error(field, refusal.detail)
        return cleaned


class WorkingTimeAdmin:
    """For the admins of working time: every save and delete is one `change_working_time`."""

    form = WorkingTimeForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_working_time_refusal", None)
        return type(form.__name__, (form,), {"refusal": refusal}) if refusal else form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            # The save was rolled back: the same page again, bound to what was sent, with the
            # refusal on its form, which keeps it from saving until it is answered.
            request._working_time_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Saved with its related rows (a rota line's breaks) in `save_related`: the clashes
        are those of the whole change."""

    def save_related(self, request, form, formsets, change) -> None:
        def save() -> None:
            super(WorkingTimeAdmin, self).save_model(request, form.instance, form, change)
            super(WorkingTimeAdmin, self).save_related(request, form, formsets, change)

        decision = form.cleaned_data.get("clash_decision") or None
        _, clashing = change_working_time(
            practitioner_ids={form.instance.practitioner_id, form.initial.get("practitioner")}
            - {None},
            change=save,
            decision=decision,
            by=request.user,
        )
        if clashing:
            _report(request, decision, clashing)

    def delete_model(self, request, obj) -> None:
        change_working_time(
            practitioner_ids=[obj.practitioner_id],
            change=lambda: super(WorkingTimeAdmin, self).delete_model(request, obj),
            decision=None,
            by=request.user,
        )

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        change_working_time(
            practitioner_ids=set(queryset.values_list("practitioner_id", flat=True)),
            change=lambda: super(WorkingTimeAdmin, self).delete_queryset(request, queryset),
            decision=None,
            by=request.user,
        )

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as refusal:
            return _not_deleted(request, refusal, request.path)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as refusal:  # the "delete selected" action
            return _not_deleted(request, refusal, request.get_full_path())


def _not_deleted(request: HttpRequest, refusal: DomainError, back: str) -> HttpResponseRedirect:
    messages.error(
        request,
        f"Nothing was deleted. {refusal.detail.split(' Choose ')[0]} Move or cancel those "
        f"bookings first, or edit the hours instead, where you can decide what happens to them.",
    )
    return HttpResponseRedirect(back)


def _report(request: HttpRequest, decision: str | None, clashing: list[Appointment]) -> None:
    links = format_html_join(
        ", ",
        '<a href="{}">{} on {}</a>',
        (
            (
                reverse(
                    "admin:appointments_appointment_reschedule"
                    if decision == ClashDecision.MOVE
                    else "admin:appointments_appointment_change",
                    args=[a.pk],
                ),
                a.patient,
                f"{a.local_start:%a %d %b %H:%M}",
            )
            for a in reversed(clashing)
        ),
    )
    done = {
        ClashDecision.KEEP: "kept and flagged in the diary",
        ClashDecision.MOVE: "flagged for reception to move (each link opens its move page)",
        ClashDecision.CANCEL: "cancelled; each patient is sent a cancellation notice",
    }[decision]
    messages.warning(
        request, format_html("{} clashing booking(s) {}: {}", len(clashing), done, links)
    )


class BreakInline(admin.TabularInline):
    model = Break
    extra = 0


@admin.register(WorkingHours)
class WorkingHoursAdmin(WorkingTimeAdmin, admin.ModelAdmin):
    list_display = ["practitioner", "location", "weekday", "start_time", "end_time"]
    list_filter = ["location", "weekday", "practitioner"]
    list_select_related = ["practitioner__user", "location"]
    inlines = [BreakInline]


@admin.register(Leave)
class LeaveAdmin(WorkingTimeAdmin, ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = ["practitioner", "start", "end", "reason"]
    list_filter = ["practitioner"]
    list_select_related = ["practitioner__user"]
    date_hierarchy = "start"


@admin.register(ExtraHours)
class ExtraHoursAdmin(WorkingTimeAdmin, ForgivingQueryAdmin, admin.ModelAdmin):
    list_display = ["practitioner", "location", "date", "start_time", "end_time"]
    list_filter = ["location", "practitioner"]
    list_select_related = ["practitioner__user", "location"]
    date_hierarchy = "date"
