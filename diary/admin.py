"""The front desk in Django's admin: the day view, booking into free slots, moving,
cancelling, check-in, completion and no-shows — all through the scheduling core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from appointments.availability import WorkingWindow, free_slots, working_windows
from appointments.clashes import clashes_among
from appointments.courses import (
    NEXT_DAY,
    OTHER_PRACTITIONER,
    SAME_DAY,
    CourseBooking,
    Preview,
    book_course,
    preview_course,
)
from appointments.models import (
    ALLOWED_TRANSITIONS,
    UNDOABLE_STATUSES,
    UPCOMING_STATUSES,
    Appointment,
    ConfirmedVia,
    Source,
    Status,
)
from appointments.selectors import (
    appointments_for,
    arrivals_between,
    booked_between,
    first_visits,
    unconfirmed_between,
)
from appointments.services import (
    book_appointment,
    cancel_appointment,
    check_in_appointment,
    complete_appointment,
    confirm_appointment,
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
from kernel.rest import clinic_midnight, whole_id
from practice.models import Location, Practitioner, Room, Service
from practice.selectors import leave_overlapping
from treatments.markers import red_flag_marker
from treatments.models import MeasureKind, RedFlag, Risk, TreatmentNote
from treatments.selectors import (
    can_carry_a_note,
    clinical_patient_ids_among,
    has_open_red_flags,
    latest_risk_by_patient,
    measure_schedules_among,
    measures_due_on,
    open_red_flags_by_patient,
    rescreen_due_among,
)

from . import (
    admin_classes,  # noqa: F401 — registers the group classes' pages
    admin_working_time,  # noqa: F401 — registers the pages of working time
)
from .admin_forms import (
    KEEP,
    SKIP,
    BookingForm,
    CancelForm,
    CourseForm,
    RescheduleForm,
    alternative_value,
    course_choices,
    initial_from_query,
)
from .grid import Column, Grid, lay_out

# The day view's choice of every location at once.
ALL_LOCATIONS = "all"


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
        "confirmed",
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
        "confirmed_at",
        "confirmed_via",
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

    @admin.display(description="Patient confirmed", boolean=True, ordering="confirmed_at")
    def confirmed(self, appointment: Appointment) -> bool:
        return appointment.confirmed_at is not None

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
            path("week/", view(self.week_view), name="appointments_appointment_week"),
            path("arrivals/", view(self.arrivals_view), name="appointments_appointment_arrivals"),
            path(
                "to-confirm/",
                view(self.to_confirm_view),
                name="appointments_appointment_to_confirm",
            ),
            path("sheet/", view(self.sheet_view), name="appointments_appointment_sheet"),
            path(
                "<int:pk>/confirm/",
                view(self.confirm_view),
                name="appointments_appointment_confirm",
            ),
            path("book/", view(self.book_view), name="appointments_appointment_book"),
            path("course/", view(self.course_view), name="appointments_appointment_course"),
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

    def changelist_view(self, request, extra_context=None):
        # Reception opens the list on today, not on the far end of the diary; "Any date"
        # from inside the list (the same page, no filters) is left alone.
        if request.method == "GET" and not request.GET and not _came_from(request, request.path):
            today = clinic_midnight(timezone.localdate())
            query = urlencode({"start__gte": today, "start__lt": today + timedelta(days=1)})
            return HttpResponseRedirect(f"{request.path}?{query}")
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # A day's list reads in the order of the day.
        return ["start"] if "start__gte" in request.GET else self.ordering

    def add_view(self, request, form_url="", extra_context=None):
        # "Add appointment" means booking into a free slot.
        return HttpResponseRedirect(reverse("admin:appointments_appointment_book"))

    # --- the grid -----------------------------------------------------------------------

    def day_view(self, request: HttpRequest) -> HttpResponse:
        """The day as a time grid: a column per practitioner working at the location (or
        per room), their bookings as blocks, the empty working time as cells to book."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        locations = list(Location.objects.filter(is_active=True))
        services = list(Service.objects.filter(is_active=True))
        if not locations or not services:
            messages.warning(request, "Set up a location and a service first.")
            return HttpResponseRedirect(reverse("admin:index"))
        everywhere = request.GET.get("location") == ALL_LOCATIONS
        location = None if everywhere else _pick(locations, query_id(request, "location"))
        service = _pick(services, query_id(request, "service"))
        by_room = request.GET.get("by") == "room"
        # The whole clinic is shown on the clock of its first location.
        zone = (location or locations[0]).zone
        day = query_date(request, "date") or timezone.localdate(timezone=zone)
        day_start = datetime.combine(day, time(), tzinfo=zone)
        day_end = day_start + timedelta(days=1)

        appointments = booked_between(request.user, day_start, day_end)
        if location is not None:
            appointments = appointments.filter(location=location)
        appointments = list(appointments)
        windows = working_windows(
            Practitioner.objects.filter(is_active=True).values("pk"),
            day,
            day,
            location_id=location.pk if location else None,
        )
        working_ids = {w.practitioner_id for w in windows}
        shown_ids = working_ids | {a.practitioner_id for a in appointments}
        if by_room:
            rooms = Room.objects.filter(is_active=True, location__is_active=True).select_related(
                "location"
            )
            columns = [
                Column(
                    key=f"room-{room.pk}",
                    title=f"{room.name} ({room.location})" if everywhere else room.name,
                    day=day,
                    appointments=[a for a in appointments if a.room_id == room.pk],
                    capacity=room.capacity,
                )
                for room in (rooms if everywhere else rooms.filter(location=location))
            ]
            free: set[tuple[int, int]] = set()
        else:
            practitioners = Practitioner.objects.filter(pk__in=shown_ids).select_related("user")
            leave = leave_overlapping(day_start, day_end, shown_ids)
            columns = [
                Column(
                    key=f"practitioner-{practitioner.pk}",
                    title=str(practitioner),
                    day=day,
                    appointments=[a for a in appointments if a.practitioner_id == practitioner.pk],
                    working=[w for w in windows if w.practitioner_id == practitioner.pk],
                    leave=[x for x in leave if x.practitioner_id == practitioner.pk],
                    practitioner_id=practitioner.pk,
                    working_day=practitioner.pk in working_ids,
                )
                for practitioner in sorted(practitioners, key=str)
            ]
            free = {
                (slot.practitioner_id, int(slot.start.timestamp()))
                for slot in free_slots(service, day, day, location=location)
            }
        grid = self._grid(request, columns, zone, appointments, service, free)

        for lane in grid.columns:
            if practitioner_id := lane["column"].practitioner_id:
                lane["links"] = _practitioner_links(practitioner_id, day, service)

        def day_link(other: date, **changes) -> str:
            query = {
                "date": other.isoformat(),
                "location": ALL_LOCATIONS if everywhere else location.pk,
                "service": service.pk,
                **({"by": "room"} if by_room else {}),
                **changes,
            }
            return f"{request.path}?{urlencode(query)}"

        context = {
            **self._grid_context(request, day, zone, service, services, grid),
            "title": f"{location or 'All locations'} · {day:%A %d %B %Y}",
            "location": location,
            "everywhere": everywhere,
            "all_locations": ALL_LOCATIONS,
            "locations": locations,
            "by_room": by_room,
            "previous_url": day_link(day - timedelta(days=1)),
            "next_url": day_link(day + timedelta(days=1)),
            "today_url": day_link(timezone.localdate(timezone=zone)),
        }
        return TemplateResponse(request, "admin/appointments/appointment/day.html", context)

    def week_view(self, request: HttpRequest) -> HttpResponse:
        """One practitioner's week, or one room's, on the same grid as the day."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        services = list(Service.objects.filter(is_active=True))
        practitioners = list(Practitioner.objects.filter(is_active=True).select_related("user"))
        rooms = list(
            Room.objects.filter(is_active=True, location__is_active=True).select_related("location")
        )
        if not services or not (practitioners or rooms):
            messages.warning(request, "Set up a practitioner and a service first.")
            return HttpResponseRedirect(reverse("admin:index"))
        service = _pick(services, query_id(request, "service"))
        # A room's week when one is asked for, or when there is no practitioner to show.
        wants_room = bool(rooms) and (bool(request.GET.get("room")) or not practitioners)
        room = _pick(rooms, query_id(request, "room")) if wants_room else None
        practitioner = None if room else _pick(practitioners, query_id(request, "practitioner"))
        zone = room.location.zone if room else timezone.get_current_timezone()
        day = query_date(request, "date") or timezone.localdate(timezone=zone)
        monday = day - timedelta(days=day.weekday())
        days = [monday + timedelta(days=n) for n in range(7)]
        week_start = datetime.combine(monday, time(), tzinfo=zone)
        week_end = week_start + timedelta(days=7)

        appointments = booked_between(request.user, week_start, week_end)
        if room:
            appointments = appointments.filter(room=room)
            windows, leave, free = [], [], set()
        else:
            appointments = appointments.filter(practitioner=practitioner)
            windows = working_windows([practitioner.pk], monday, days[-1])
            leave = leave_overlapping(week_start, week_end, [practitioner.pk])
            free = {
                (slot.practitioner_id, int(slot.start.timestamp()))
                for slot in free_slots(service, monday, days[-1], practitioner=practitioner)
            }
        appointments = list(appointments)
        columns = [
            Column(
                key=f"day-{one_day.isoformat()}",
                title=f"{one_day:%a %d %b}",
                day=one_day,
                appointments=[a for a in appointments if a.local_start.date() == one_day],
                working=[w for w in windows if w.day == one_day],
                leave=leave,
                practitioner_id=practitioner.pk if practitioner else None,
                capacity=room.capacity if room else 1,
            )
            for one_day in days
        ]
        grid = self._grid(request, columns, zone, appointments, service, free)
        for column in grid.columns:
            column["day_url"] = _day_link(column["column"].day, service=service)

        def week_link(other: date) -> str:
            query = {"date": other.isoformat(), "service": service.pk}
            query.update({"room": room.pk} if room else {"practitioner": practitioner.pk})
            return f"{request.path}?{urlencode(query)}"

        context = {
            **self._grid_context(request, day, zone, service, services, grid),
            "title": f"{room or practitioner} · week of {monday:%d %B %Y}",
            "practitioner": practitioner,
            "room": room,
            "practitioners": practitioners,
            "rooms": rooms,
            "previous_url": week_link(monday - timedelta(days=7)),
            "next_url": week_link(monday + timedelta(days=7)),
            "today_url": week_link(timezone.localdate(timezone=zone)),
        }
        return TemplateResponse(request, "admin/appointments/appointment/week.html", context)

    def _grid_context(self, request, day: date, zone, service, services, grid) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "day": day,
            "zone": zone,
            "service": service,
            "services": services,
            "grid": grid,
            "can_book": self.has_add_permission(request),
        }

    def _grid(
        self,
        request: HttpRequest,
        columns: list[Column],
        zone: ZoneInfo,
        appointments: list[Appointment],
        service: Service,
        free: set[tuple[int, int]],
    ) -> Grid:
        """The day's or the week's columns laid out, with empty cells that book (`service`)
        for those who may add appointments."""
        return lay_out(
            columns,
            zone=zone,
            block=self._block_maker(request, appointments),
            cell_url=_cell_url(service) if self.has_add_permission(request) else None,
            free_starts=free,
        )

    def _block_maker(
        self, request: HttpRequest, appointments: list[Appointment]
    ) -> Callable[[Appointment], dict]:
        """What each appointment's block shows: its text in full (a screen reader reads the
        link), its status, the clinical markers and where to move it. The markers of every
        appointment are read at once, so the page's queries do not grow with the day."""
        clashes = clashes_among(a for a in appointments if a.status in UPCOMING_STATUSES)
        patient_ids = {a.patient_id for a in appointments}
        red_flags = open_red_flags_by_patient(patient_ids)
        # Reception sees that there are red flags; clinicians see which, and beside them
        # the STarT Back risk and whether a re-screen is due.
        clinical = clinical_patient_ids_among(request.user, patient_ids)
        risks = latest_risk_by_patient(clinical)
        rescreen = rescreen_due_among(clinical)
        schedules = measure_schedules_among(clinical)
        first_seen = first_visits({a.patient_id for a in appointments})
        can_move = self.has_change_permission(request)
        change_url = _url_by_pk("admin:appointments_appointment_change")
        move_url = _url_by_pk("admin:appointments_appointment_reschedule")

        def block(appointment: Appointment) -> dict:
            flags = red_flags.get(appointment.patient_id)
            first = first_seen.get(appointment.patient_id)
            new_patient = first is None or appointment.start <= first
            confirmed = appointment.status == Status.BOOKED and appointment.confirmed_at
            status = (
                "Booked, confirmed by the patient"
                if confirmed
                else appointment.get_status_display()
            )
            markers = [
                *(["red flags"] if flags else []),
                *(["new patient"] if new_patient else []),
            ]
            time_span = f"{appointment.local_start:%H:%M}-{appointment.local_end:%H:%M}"
            return {
                "time": time_span,
                "status": status,
                "confirmed": bool(confirmed),
                "label": ", ".join(
                    [
                        f"{time_span} {appointment.patient}",
                        str(appointment.service),
                        appointment.room.name,
                        status,
                        *markers,
                    ]
                ),
                "red_flag": bool(flags),
                "red_flag_reasons": (
                    ", ".join(RedFlag(flag).label for flag in flags)
                    if flags and appointment.patient_id in clinical
                    else ""
                ),
                "new_patient": new_patient,
                "start_back": f"STarT Back: {Risk(risks[appointment.patient_id]).label.lower()}"
                if appointment.patient_id in risks
                else "",
                "rescreen_due": appointment.patient_id in rescreen,
                # The questionnaires the plan has due on the session's day.
                "measures_due": ", ".join(
                    MeasureKind(kind).label
                    for kind in measures_due_on(
                        schedules, appointment.patient_id, appointment.local_start.date()
                    )
                ),
                "clash": _clash_of(appointment, clashes),
                "url": change_url(appointment.pk),
                # The move form opens on the appointment's day, its free slots listed.
                "move_url": f"{move_url(appointment.pk)}?date={appointment.local_start.date()}"
                if can_move and appointment.status == Status.BOOKED
                else None,
            }

        return block

    # --- the front desk's daily jobs ---------------------------------------------------

    def arrivals_view(self, request: HttpRequest) -> HttpResponse:
        """Today's arrivals across the clinic, each checked in with one click."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        arrivals = arrivals_between(
            request.user, clinic_midnight(today), clinic_midnight(today + timedelta(days=1))
        )
        return self._job_page(
            request,
            "arrivals.html",
            title=f"Arrivals · {today:%A %d %B %Y}",
            appointments=list(arrivals),
            can_change=self.has_change_permission(request),
        )

    def to_confirm_view(self, request: HttpRequest) -> HttpResponse:
        """Tomorrow's (or a chosen day's) bookings the patient has not confirmed: to call."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        day = query_date(request, "date") or timezone.localdate() + timedelta(days=1)
        unconfirmed = unconfirmed_between(
            request.user, clinic_midnight(day), clinic_midnight(day + timedelta(days=1))
        )
        return self._job_page(
            request,
            "to_confirm.html",
            title=f"To confirm · {day:%A %d %B %Y}",
            day=day,
            appointments=list(unconfirmed),
            can_change=self.has_change_permission(request),
        )

    def confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The patient confirmed on the phone."""
        if request.method != "POST":
            raise PermissionDenied
        appointment = self._appointment_to_change(request, pk)
        try:
            confirmed = confirm_appointment(
                appointment=appointment, via=ConfirmedVia.RECEPTION, by=request.user
            )
        except DomainError as refusal:
            messages.error(request, f"{appointment}: {refusal.detail}")
        else:
            self.log_change(request, confirmed, "Confirmed on the phone.")
            messages.success(request, f"{confirmed.patient} confirmed {confirmed}.")
        return HttpResponseRedirect(
            _next_or(request, reverse("admin:appointments_appointment_to_confirm"))
        )

    def sheet_view(self, request: HttpRequest) -> HttpResponse:
        """A practitioner's day on paper: the browser prints it (`@media print`)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        practitioners = list(Practitioner.objects.filter(is_active=True).select_related("user"))
        if not practitioners:
            messages.warning(request, "Set up a practitioner first.")
            return HttpResponseRedirect(reverse("admin:index"))
        practitioner = _pick(practitioners, query_id(request, "practitioner"))
        day = query_date(request, "date") or timezone.localdate()
        appointments = list(
            booked_between(
                request.user, clinic_midnight(day), clinic_midnight(day + timedelta(days=1))
            ).filter(practitioner=practitioner)
        )
        block = self._block_maker(request, appointments)
        return self._job_page(
            request,
            "sheet.html",
            title=f"{practitioner} · {day:%A %d %B %Y}",
            day=day,
            practitioner=practitioner,
            practitioners=practitioners,
            rows=[{**block(a), "appointment": a} for a in appointments],
        )

    def _job_page(self, request: HttpRequest, template: str, **context) -> TemplateResponse:
        return TemplateResponse(
            request,
            f"admin/appointments/appointment/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "here": request.get_full_path(),
                **context,
            },
        )

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
        slots = form.free_slots() if form.is_bound else []
        if request.method == "GET":
            form.choose_nearest(slots)
        form.offer(slots)
        return self._slot_page(request, form, title="Book an appointment", submit="book")

    def course_view(self, request: HttpRequest) -> HttpResponse:
        """Book a course in one form: the rule, then every visit checked with the
        alternatives of those that are taken, then every visit booked at once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        posted = request.POST if request.method == "POST" else None
        form = CourseForm(posted, initial=initial_from_query(request.GET), user=request.user)
        preview, refused = None, {}
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                preview = preview_course(
                    service=data["service"],
                    location=data["location"],
                    rule=form.rule(),
                    practitioner=data["practitioner"],
                    patient=data["patient"],
                )
                if "book" in request.POST and preview.practitioner is not None:
                    booking = book_course(
                        patient=data["patient"],
                        service=data["service"],
                        practitioner=preview.practitioner,
                        location=data["location"],
                        rule=form.rule(),
                        choices=course_choices(request.POST, len(preview.visits)),
                        source=Source.RECEPTION,
                        created_by=request.user,
                    )
                    return self._course_booked(request, booking)
            except DomainError as refusal:
                refused = {
                    visit["number"]: visit["detail"] for visit in refusal.extra.get("visits", [])
                }
                form.refuse(refusal)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Book a course",
            "form": form,
            "media": self.media + form.media,
            "visits": _course_rows(preview, data["location"], request.POST, refused)
            if preview
            else [],
            "nobody_free": preview is not None and preview.practitioner is None,
            "practitioner": preview.practitioner if preview else None,
        }
        return TemplateResponse(request, "admin/appointments/appointment/course.html", context)

    def _course_booked(self, request: HttpRequest, booking: CourseBooking) -> HttpResponse:
        for appointment in booking.booked:
            self.log_addition(
                request,
                appointment,
                f"Booked at the front desk as a visit of course {booking.course.pk}.",
            )
        first = booking.booked[0]
        skipped = sum(visit.skipped for visit in booking.visits)
        messages.success(
            request,
            f"Booked {len(booking.booked)} visits of {first.service} for {first.patient}, "
            f"from {first.local_start:%A %d %B at %H:%M}"
            + (f"; {skipped} skipped." if skipped else "."),
        )
        return HttpResponseRedirect(_day_url(first))

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
            _next_or(
                request, reverse("admin:appointments_appointment_change", args=[appointment.pk])
            )
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
        # Who may change no appointment at all is refused before being told which exist.
        if not self.has_change_permission(request):
            raise PermissionDenied
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


@dataclass(frozen=True)
class _CourseRow:
    """One visit of the previewed course as the page shows it, with its options."""

    number: int
    start: datetime
    free: bool
    options: list[tuple[str, str, bool]]  # value, label, chosen
    refused: str


def _course_rows(
    preview: Preview, location: Location, post, refused: dict[int, str]
) -> list[_CourseRow]:
    """A free visit is kept by default; a taken one offers its alternatives, the first of
    them chosen unless reception chose otherwise, and skipping."""
    names = {
        practitioner.pk: str(practitioner)
        for practitioner in Practitioner.objects.select_related("user").filter(
            pk__in={
                alternative.practitioner_id
                for visit in preview.visits
                for alternative in visit.alternatives
            }
        )
    }
    rows = []
    for visit in preview.visits:
        options = [(KEEP, "Book this time", visit.free)] if visit.free else []
        for alternative in visit.alternatives:
            options.append(
                (
                    alternative_value(alternative.practitioner_id, alternative.start),
                    f"{ALTERNATIVE_LABELS[alternative.kind]}: "
                    f"{alternative.start.astimezone(location.zone):%a %d %b %H:%M}"
                    f" with {names[alternative.practitioner_id]}",
                    False,
                )
            )
        options.append((SKIP, "Skip this visit", False))
        chosen = post.get(f"visit_{visit.number}")
        if chosen is None and not visit.free and len(options) > 1:
            chosen = options[0][0]
        options = [
            (value, label, value == chosen if chosen is not None else default)
            for value, label, default in options
        ]
        rows.append(
            _CourseRow(
                visit.number,
                visit.start.astimezone(location.zone),
                visit.free,
                options,
                refused.get(visit.number, ""),
            )
        )
    return rows


ALTERNATIVE_LABELS = {
    SAME_DAY: "Same day",
    OTHER_PRACTITIONER: "Same time",
    NEXT_DAY: "Next day",
}


def _day_url(appointment: Appointment) -> str:
    return _day_link(
        appointment.local_start.date(),
        service=appointment.service,
        location_id=appointment.location_id,
    )


def _day_link(day: date, *, service: Service, location_id: int | None = None) -> str:
    query = {"date": day.isoformat(), "location": location_id, "service": service.pk}
    if location_id is None:
        del query["location"]
    return f"{reverse('admin:appointments_appointment_day')}?{urlencode(query)}"


def _cell_url(service: Service) -> Callable[[Column, WorkingWindow, datetime], str]:
    """Where a click on an empty cell goes: the booking form for the chosen service, with
    the cell's practitioner, location and start (the form offers the free starts near it)."""
    book = reverse("admin:appointments_appointment_book")

    def url(column: Column, window: WorkingWindow, start: datetime) -> str:
        query = {
            "practitioner": column.practitioner_id,
            "location": window.location_id,
            "service": service.pk,
            "date": start.date().isoformat(),
            "start": start.isoformat(),
        }
        return f"{book}?{urlencode(query)}"

    return url


def _url_by_pk(name: str) -> Callable[[int], str]:
    """An admin URL of one object, reversed once for all: a busy day has hundreds of blocks,
    and reversing each one's links took a tenth of the day grid's time."""
    marker = 2**31 - 1  # no other part of an admin URL spells it
    head, _, tail = reverse(name, args=[marker]).rpartition(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _practitioner_links(practitioner_id: int, day: date, service: Service) -> list[tuple]:
    query = urlencode({"practitioner": practitioner_id, "date": day, "service": service.pk})
    return [
        ("Week", f"{reverse('admin:appointments_appointment_week')}?{query}"),
        ("Day sheet", f"{reverse('admin:appointments_appointment_sheet')}?{query}"),
    ]


def _came_from(request: HttpRequest, path: str) -> bool:
    return urlsplit(request.headers.get("referer", "")).path == path


def _next_or(request: HttpRequest, default: str) -> str:
    """Back to the page the button was on, if it is one of ours."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else default
