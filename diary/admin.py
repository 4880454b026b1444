"""The front desk in Django's admin: the day view, booking into free slots, moving,
cancelling, check-in, completion and no-shows — all through the scheduling core."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from appointments.availability import free_slots, working_windows
from appointments.clashes import clashes_among
from appointments.models import (
    ALLOWED_TRANSITIONS,
    UNDOABLE_STATUSES,
    UPCOMING_STATUSES,
    Appointment,
    Source,
    Status,
)
from appointments.selectors import appointments_for
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    mark_no_show,
    reschedule_appointment,
    undo_status_change,
)
from kernel.admin_access import NoAccessAdmin
from kernel.admin_query import (
    CalendarDateFieldListFilter,
    ForgivingQueryAdmin,
    query_date,
    query_id,
)
from kernel.errors import DomainError
from kernel.rest import whole_id
from practice.models import Location, Practitioner, Service
from treatments.markers import red_flag_marker
from treatments.models import RedFlag, TreatmentNote
from treatments.selectors import (
    can_carry_a_note,
    clinical_patient_ids_among,
    has_open_red_flags,
    open_red_flags_by_patient,
)

from . import admin_working_time  # noqa: F401 — registers the pages of working time
from .admin_forms import BookingForm, CancelForm, RescheduleForm, initial_from_query


@dataclass(frozen=True)
class StatusChange:
    service: Callable[..., Appointment]
    becomes: str
    button: str
    done: str


# The buttons on an appointment's page and the list's actions, by URL slug.
STATUS_CHANGES = {
    "check-in": StatusChange(check_in_appointment, Status.CHECKED_IN, "Check in", "checked in"),
    "complete": StatusChange(complete_appointment, Status.COMPLETED, "Complete", "completed"),
    "no-show": StatusChange(mark_no_show, Status.NO_SHOW, "No-show", "marked as a no-show"),
}


class PractitionerFilter(admin.SimpleListFilter):
    """By practitioner, with their names in one query (the stock filter asks per name)."""

    title = "practitioner"
    parameter_name = "practitioner__id__exact"

    def lookups(self, request, model_admin):
        return [
            (practitioner.pk, str(practitioner))
            for practitioner in Practitioner.objects.select_related("user")
        ]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        practitioner_id = whole_id(self.value())
        return (
            queryset.filter(practitioner_id=practitioner_id) if practitioner_id else queryset.none()
        )


@admin.register(Appointment)
class AppointmentAdmin(NoAccessAdmin, ForgivingQueryAdmin, admin.ModelAdmin):
    no_access_message = "You don't have access to this appointment."
    list_display = [
        "local_start",
        "patient",
        "red_flag",
        "practitioner",
        "service",
        "location",
        "room_name",
        "status",
    ]
    list_filter = [
        ("start", CalendarDateFieldListFilter),
        "status",
        "location",
        PractitionerFilter,
        "service",
    ]
    list_select_related = ["patient", "practitioner__user", "service", "location", "room"]
    search_fields = ["patient__first_name", "patient__last_name", "patient__email"]
    date_hierarchy = "start"
    ordering = ["-start"]
    actions = ["check_in_selected", "complete_selected", "mark_no_show_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        # As in the API: the front desk sees every booking, a practitioner their own diary.
        return appointments_for(request.user).annotate(
            open_red_flags=has_open_red_flags("patient_id")
        )

    fields = [
        "patient",
        "red_flag",
        "practitioner",
        "service",
        "location",
        "room",
        "room_place",
        "start",
        "end",
        "blocked_until",
        "price",
        "status",
        "source",
        "note",
        "created_by",
        "created_at",
        "updated_by",
        "updated_at",
        "rescheduled_at",
        "checked_in_at",
        "completed_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    ]
    # Times, rooms and statuses change only through the scheduling core (the buttons).
    readonly_fields = [f for f in fields if f != "note"]
    change_form_template = "admin/appointments/appointment/change_form.html"
    change_list_template = "admin/appointments/appointment/change_list.html"

    @admin.display(description="Start", ordering="start")
    def local_start(self, appointment: Appointment) -> str:
        return f"{appointment.local_start:%a %d %b %Y %H:%M}"

    @admin.display(description="Red flags")
    def red_flag(self, appointment: Appointment) -> str:
        return red_flag_marker(appointment.open_red_flags) or "—"

    @admin.display(description="Room", ordering="room__name")
    def room_name(self, appointment: Appointment) -> str:
        return appointment.room.name

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # appointments are cancelled, never deleted

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("day/", view(self.day_view), name="appointments_appointment_day"),
            path("book/", view(self.book_view), name="appointments_appointment_book"),
            path(
                "<int:pk>/reschedule/",
                view(self.reschedule_view),
                name="appointments_appointment_reschedule",
            ),
            path(
                "<int:pk>/cancel/",
                view(self.cancel_view),
                name="appointments_appointment_cancel",
            ),
            path(
                "<int:pk>/undo/",
                view(self.undo_view),
                name="appointments_appointment_undo",
            ),
            path(
                "<int:pk>/status/<slug:change>/",
                view(self.status_view),
                name="appointments_appointment_status",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        # "Add appointment" means booking into a free slot.
        return HttpResponseRedirect(reverse("admin:appointments_appointment_book"))

    # --- the day ------------------------------------------------------------------------

    def day_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        locations = list(Location.objects.filter(is_active=True))
        services = list(Service.objects.filter(is_active=True))
        if not locations or not services:
            messages.warning(request, "Set up a location and a service first.")
            return HttpResponseRedirect(reverse("admin:index"))
        location = _pick(locations, query_id(request, "location"))
        service = _pick(services, query_id(request, "service"))
        day = query_date(request, "date") or timezone.localdate(timezone=location.zone)

        day_start = datetime.combine(day, time(), tzinfo=location.zone)
        day_end = datetime.combine(day + timedelta(days=1), time(), tzinfo=location.zone)
        appointments = list(
            appointments_for(request.user)
            # Cancelled and no-show ones too: reception needs to see who is not coming.
            .filter(location=location, start__gte=day_start, start__lt=day_end)
            .select_related("patient", "service", "room", "location")
            .order_by("start")
        )
        windows = working_windows(
            Practitioner.objects.filter(is_active=True).values("pk"),
            day,
            day,
            location_id=location.pk,
        )
        slots = free_slots(service, day, day, location=location)
        working_ids = {w.practitioner_id for w in windows}
        shown_ids = working_ids | {a.practitioner_id for a in appointments}
        practitioners = list(Practitioner.objects.filter(pk__in=shown_ids).select_related("user"))

        clashes = clashes_among(a for a in appointments if a.status in UPCOMING_STATUSES)
        red_flags = open_red_flags_by_patient({a.patient_id for a in appointments})
        # Reception sees that there are red flags; the reasons are for those who may read
        # the patient's clinical records.
        clinical = clinical_patient_ids_among(request.user, red_flags)
        items: dict[int, list[dict]] = defaultdict(list)
        for appointment in appointments:
            flags = red_flags.get(appointment.patient_id)
            items[appointment.practitioner_id].append(
                {
                    "kind": "appointment",
                    # Reception sees that there are red flags; clinicians see which.
                    "red_flag": bool(flags),
                    "red_flag_reasons": (
                        ", ".join(RedFlag(flag).label for flag in flags)
                        if flags and appointment.patient_id in clinical
                        else ""
                    ),
                    # Those holding their time first when two share a start.
                    "sort": (appointment.start, not appointment.is_occupying),
                    "time": f"{appointment.local_start:%H:%M}-{appointment.local_end:%H:%M}",
                    "appointment": appointment,
                    "clash": _clash_of(appointment, clashes),
                    "url": reverse("admin:appointments_appointment_change", args=[appointment.pk]),
                }
            )
        book_url = reverse("admin:appointments_appointment_book")
        for slot in slots:
            start = slot.start.astimezone(location.zone)
            query = urlencode(
                {
                    "practitioner": slot.practitioner_id,
                    "location": location.pk,
                    "service": service.pk,
                    "date": day.isoformat(),
                    "start": start.isoformat(),
                }
            )
            items[slot.practitioner_id].append(
                {
                    "kind": "slot",
                    "sort": (slot.start, False),
                    "time": f"{start:%H:%M}",
                    "url": f"{book_url}?{query}",
                }
            )
        columns = [
            {
                "practitioner": practitioner,
                "working": practitioner.pk in working_ids,
                "items": sorted(items[practitioner.pk], key=lambda item: item["sort"]),
            }
            for practitioner in practitioners
        ]

        def day_link(other: date) -> str:
            query = {"date": other.isoformat(), "location": location.pk, "service": service.pk}
            return f"{request.path}?{urlencode(query)}"

        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{location} · {day:%A %d %B %Y}",
            "day": day,
            "location": location,
            "service": service,
            "locations": locations,
            "services": services,
            "columns": columns,
            "previous_day_url": day_link(day - timedelta(days=1)),
            "next_day_url": day_link(day + timedelta(days=1)),
            "today_url": day_link(timezone.localdate(timezone=location.zone)),
            "can_book": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/appointments/appointment/day.html", context)

    # --- booking ------------------------------------------------------------------------

    def book_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = BookingForm(request.POST, user=request.user)
        elif request.GET.get("service"):
            form = BookingForm(initial_from_query(request.GET), user=request.user)
        else:
            form = BookingForm(initial=initial_from_query(request.GET), user=request.user)
        if form.is_bound and form.is_valid() and "book" in request.POST:
            chosen = form.cleaned_data["slot"]
            try:
                appointment = book_appointment(
                    patient=form.cleaned_data["patient"],
                    service=form.cleaned_data["service"],
                    practitioner=chosen.practitioner,
                    start=chosen.start,
                    location=chosen.location,
                    source=Source.RECEPTION,
                    created_by=request.user,
                    note=form.cleaned_data["note"],
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                self.log_addition(request, appointment, "Booked at the front desk.")
                messages.success(
                    request,
                    f"Booked {appointment.service} for {appointment.patient} with "
                    f"{appointment.practitioner} at {appointment.local_start:%H:%M} on "
                    f"{appointment.local_start:%A %d %B}.",
                )
                return HttpResponseRedirect(_day_url(appointment))
        form.offer(form.free_slots() if form.is_bound else [])
        return self._slot_page(request, form, title="Book an appointment", submit="book")

    def reschedule_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._appointment_to_change(request, pk)
        data = request.POST if request.method == "POST" else None
        if data is None and request.GET.get("date"):
            data = {**initial_from_query(request.GET), "service": appointment.service_id}
        form = RescheduleForm(
            data,
            appointment=appointment,
            initial={"date": appointment.local_start.date(), "location": appointment.location_id},
        )
        if form.is_bound and form.is_valid() and "move" in request.POST:
            chosen = form.cleaned_data["slot"]
            try:
                moved = reschedule_appointment(
                    appointment=appointment,
                    start=chosen.start,
                    practitioner=chosen.practitioner,
                    by=request.user,
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                self.log_change(request, moved, f"Moved to {moved.local_start}.")
                messages.success(request, f"Moved to {moved.local_start:%H:%M on %A %d %B}.")
                return HttpResponseRedirect(_day_url(moved))
        form.offer(form.free_slots() if form.is_bound else [])
        return self._slot_page(
            request, form, title=f"Move: {appointment}", submit="move", appointment=appointment
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        appointment = self._appointment_to_change(request, pk)
        form = CancelForm(request.POST or None)
        if form.is_valid():
            try:
                cancelled = cancel_appointment(
                    appointment=appointment, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as refusal:
                form.add_error(None, refusal.detail)
            else:
                self.log_change(request, cancelled, "Cancelled.")
                messages.success(
                    request, f"{cancelled} — {cancelled.get_status_display().lower()}."
                )
                return HttpResponseRedirect(_day_url(cancelled))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Cancel: {appointment}",
            "form": form,
            "appointment": appointment,
        }
        return TemplateResponse(request, "admin/appointments/appointment/cancel.html", context)

    def status_view(self, request: HttpRequest, pk: int, change: str) -> HttpResponse:
        if request.method != "POST" or change not in STATUS_CHANGES:
            raise PermissionDenied
        appointment = self._appointment_to_change(request, pk)
        status_change = STATUS_CHANGES[change]
        try:
            changed = status_change.service(appointment=appointment, by=request.user)
        except DomainError as refusal:
            messages.error(request, refusal.detail)
        else:
            self.log_change(request, changed, f"{status_change.done.capitalize()}.")
            messages.success(request, f"{changed.patient} {status_change.done}.")
        return HttpResponseRedirect(
            request.POST.get("next")
            or reverse("admin:appointments_appointment_change", args=[appointment.pk])
        )

    def undo_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Undo a check-in or a no-show made by mistake (audited by the service)."""
        if request.method != "POST":
            raise PermissionDenied
        appointment = self._appointment_to_change(request, pk)
        undone = f"Undid “{appointment.get_status_display()}”"
        try:
            restored = undo_status_change(appointment=appointment, by=request.user, request=request)
        except DomainError as refusal:
            messages.error(request, refusal.detail)
        else:
            self.log_change(request, restored, f"{undone}: booked again.")
            messages.success(request, f"{undone}: {restored.patient} is booked again.")
        return HttpResponseRedirect(
            reverse("admin:appointments_appointment_change", args=[appointment.pk])
        )

    # --- list actions -------------------------------------------------------------------

    @admin.action(description="Check in the selected appointments", permissions=["change"])
    def check_in_selected(self, request, queryset):
        self._change_each(request, queryset, "check-in")

    @admin.action(description="Complete the selected appointments", permissions=["change"])
    def complete_selected(self, request, queryset):
        self._change_each(request, queryset, "complete")

    @admin.action(description="Mark the selected appointments as no-shows", permissions=["change"])
    def mark_no_show_selected(self, request, queryset):
        self._change_each(request, queryset, "no-show")

    def _change_each(self, request, queryset: QuerySet[Appointment], change: str) -> None:
        status_change = STATUS_CHANGES[change]
        changed = 0
        for appointment in queryset.select_related("patient", "service", "practitioner__user"):
            try:
                saved = status_change.service(appointment=appointment, by=request.user)
            except DomainError as refusal:
                messages.error(request, f"{appointment}: {refusal.detail}")
            else:
                self.log_change(request, saved, f"{status_change.done.capitalize()}.")
                changed += 1
        if changed:
            messages.success(request, f"{changed} appointment(s) {status_change.done}.")

    # --- helpers ------------------------------------------------------------------------

    def _appointment_to_change(self, request: HttpRequest, pk: int) -> Appointment:
        appointment = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, appointment):
            raise PermissionDenied
        return appointment

    def _slot_page(self, request, form, *, title: str, submit: str, appointment=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "media": self.media + form.media,
            "submit": submit,
            "appointment": appointment,
            "has_slots": bool(form.fields["slot"].widget.choices),
        }
        return TemplateResponse(request, "admin/appointments/appointment/book.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["status_changes"] = [
                (slug, change.button)
                for slug, change in STATUS_CHANGES.items()
                if change.becomes in ALLOWED_TRANSITIONS[obj.status]
            ]
            if obj.status in UNDOABLE_STATUSES:
                context["undo_label"] = f"Undo “{obj.get_status_display()}”"
            context["can_move"] = obj.status == Status.BOOKED
            context["note_link"] = _note_link(request, obj)
            upcoming = obj.status in UPCOMING_STATUSES
            context["clash"] = _clash_of(obj, clashes_among([obj]) if upcoming else {})
        return super().render_change_form(request, context, add, change, form_url, obj)


def _clash_of(appointment: Appointment, clashes: dict[int, str]) -> dict | None:
    """The flag of an appointment that clashes with its practitioner's working time: why,
    what was decided when the working time changed, and where to move it."""
    reason = clashes.get(appointment.pk)
    if reason is None:
        return None
    return {
        "reason": reason,
        "decision": appointment.get_clash_decision_display(),
        "move_url": reverse("admin:appointments_appointment_reschedule", args=[appointment.pk])
        if appointment.status == Status.BOOKED
        else None,
    }


def _note_link(request: HttpRequest, appointment: Appointment) -> tuple[str, str] | None:
    """For clinicians: open the session's note, or start it once the session can carry one
    (`can_carry_a_note`, the rule of the note's own page)."""
    note = TreatmentNote.objects.filter(appointment=appointment).values_list("pk", flat=True)
    if existing := note.first():
        if request.user.has_perm("treatments.view_treatmentnote"):
            return "Open note", reverse("admin:treatments_treatmentnote_change", args=[existing])
        return None
    if request.user.has_perm("treatments.add_treatmentnote") and can_carry_a_note(appointment):
        url = reverse("admin:treatments_treatmentnote_add")
        return "Write note", f"{url}?appointment={appointment.pk}"
    return None


def _pick(options: list, wanted: int | None):
    by_id = {option.pk: option for option in options}
    return by_id.get(wanted, options[0])


def _day_url(appointment: Appointment) -> str:
    query = urlencode(
        {
            "date": appointment.local_start.date().isoformat(),
            "location": appointment.location_id,
            "service": appointment.service_id,
        }
    )
    return f"{reverse('admin:appointments_appointment_day')}?{query}"
