"""Group classes at the front desk: the classes list, scheduling one class or a weekly
series in one form, a class's attendees, booking a patient in, cancelling a class, and
marking each attendee's attendance — all through `appointments.classes`. A refusal is
shown on the page, never a server error."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget, AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from appointments.classes import (
    book_place,
    book_series_places,
    cancel_class,
    cancel_place,
    mark_attendance,
    schedule_class_series,
)
from appointments.courses import CourseRule
from appointments.models import (
    MAX_CLASS_CAPACITY,
    MAX_COURSE_INTERVAL_WEEKS,
    MAX_COURSE_VISITS,
    Appointment,
    Attendance,
    ClassPlace,
    GroupClass,
    Source,
)
from appointments.selectors import class_places_for, classes_for
from care.selectors import bookable_patients_for
from kernel.admin_access import NoAccessAdmin
from kernel.admin_query import (
    CalendarDateField,
    CalendarDateFieldListFilter,
    ForgivingQueryAdmin,
)
from kernel.errors import DomainError
from patients.models import Patient
from practice.models import Location, Practitioner, Room, Service, Weekday

from .admin_forms import RefusalShown


class ScheduleClassesForm(RefusalShown, forms.Form):
    """One class (one class, no weekday ticked) or a weekly series of them."""

    service = forms.ModelChoiceField(queryset=Service.objects.filter(is_active=True))
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"),
        label="Coach",
    )
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True))
    room = forms.ModelChoiceField(
        queryset=Room.objects.filter(is_active=True).select_related("location"),
        required=False,
        help_text="The first free room of the service's kind, if left empty.",
    )
    first_date = CalendarDateField(widget=AdminDateWidget)
    at = forms.TimeField(widget=AdminTimeWidget, help_text="On the location's clock.")
    weekdays = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The first date's weekday, if none is ticked.",
    )
    every_weeks = forms.IntegerField(
        min_value=1, max_value=MAX_COURSE_INTERVAL_WEEKS, initial=1, label="Every … weeks"
    )
    classes = forms.IntegerField(
        min_value=1,
        max_value=MAX_COURSE_VISITS,
        required=False,
        initial=1,
        help_text="How many classes (1: a single class); or an end date.",
    )
    until = CalendarDateField(widget=AdminDateWidget, required=False, label="Until")
    capacity = forms.IntegerField(min_value=1, max_value=MAX_CLASS_CAPACITY, initial=4)
    bookable_online = forms.BooleanField(required=False, initial=True)
    free_only = forms.BooleanField(
        required=False,
        label="Schedule the free ones only",
        help_text="Otherwise one taken time schedules none of the series.",
    )

    def rule(self) -> CourseRule:
        data = self.cleaned_data
        return CourseRule(
            first_date=data["first_date"],
            at=data["at"],
            weekdays=data["weekdays"],
            every_weeks=data["every_weeks"],
            visits=data["classes"],
            until=data["until"],
        )


class BookPatientForm(RefusalShown, forms.Form):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site),
    )
    whole_series = forms.BooleanField(
        required=False, help_text="Every class of its series still to come, not this one only."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = bookable_patients_for(user)


class CancelClassForm(RefusalShown, forms.Form):
    reason = forms.CharField(max_length=500, help_text="Kept with the class.")


class PlaceInline(admin.TabularInline):
    model = ClassPlace
    fields = ["patient", "seat", "status", "attendance", "source", "booked_at", "cancelled_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # booked through "Book a patient", which checks the rules

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassPlace]:
        return class_places_for(request.user).order_by("status", "seat")


@admin.register(GroupClass)
class GroupClassAdmin(NoAccessAdmin, ForgivingQueryAdmin, admin.ModelAdmin):
    no_access_message = "You don't have access to this class."
    list_display = [
        "local_start",
        "service",
        "practitioner",
        "location",
        "room",
        "places",
        "status",
    ]
    list_filter = [("start", CalendarDateFieldListFilter), "status", "location", "service"]
    list_select_related = ["service", "practitioner__user", "location", "room"]
    date_hierarchy = "start"
    ordering = ["start"]
    inlines = [PlaceInline]
    fields = [
        "service",
        "practitioner",
        "location",
        "room",
        "start",
        "end",
        "capacity",
        "bookable_online",
        "status",
        "series",
        "created_by",
        "created_at",
        "cancelled_at",
        "cancelled_by",
        "cancellation_reason",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[GroupClass]:
        return classes_for(request.user)

    @admin.display(description="Start", ordering="start")
    def local_start(self, group_class: GroupClass) -> str:
        return f"{group_class.local_start:%a %d %b %Y %H:%M}"

    @admin.display(description="Places booked")
    def places(self, group_class: GroupClass) -> str:
        return f"{group_class.places_booked} / {group_class.capacity}"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a class is cancelled, never deleted

    def get_urls(self):
        return [
            path(
                "<int:pk>/book/",
                self.admin_site.admin_view(self.book_view),
                name="appointments_groupclass_book",
            ),
            path(
                "<int:pk>/cancel/",
                self.admin_site.admin_view(self.cancel_view),
                name="appointments_groupclass_cancel",
            ),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url="", extra_context=None) -> HttpResponse:
        """Schedule one class or a weekly series, each class refused or accepted on its
        own (the coach's and the room's time, the coach's hours)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ScheduleClassesForm(request.POST if request.method == "POST" else None)
        refused: list[dict] = []
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                scheduling = schedule_class_series(
                    service=data["service"],
                    practitioner=data["practitioner"],
                    location=data["location"],
                    rule=form.rule(),
                    capacity=data["capacity"],
                    room=data["room"],
                    bookable_online=data["bookable_online"],
                    free_only=data["free_only"],
                    created_by=request.user,
                )
            except DomainError as refusal:
                refused = refusal.extra.get("classes", [])
                form.refuse(refusal)
            else:
                for group_class in scheduling.scheduled:
                    self.log_addition(request, group_class, "Scheduled at the front desk.")
                skipped = len(scheduling.classes) - len(scheduling.scheduled)
                messages.success(
                    request,
                    f"Scheduled {len(scheduling.scheduled)} class(es) of {data['service']}"
                    + (f"; {skipped} time(s) taken, left out." if skipped else "."),
                )
                return HttpResponseRedirect(reverse("admin:appointments_groupclass_changelist"))
        return self._form_page(
            request, form, title="Schedule group classes", submit="Schedule", refused=refused
        )

    def book_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        group_class = self._class_to_change(request, pk)
        form = BookPatientForm(
            request.POST if request.method == "POST" else None, user=request.user
        )
        refused: list[dict] = []
        if form.is_bound and form.is_valid():
            patient = form.cleaned_data["patient"]
            try:
                if form.cleaned_data["whole_series"] and group_class.series is not None:
                    booked = [
                        r.place
                        for r in book_series_places(
                            series=group_class.series,
                            patient=patient,
                            source=Source.RECEPTION,
                            booked_by=request.user,
                            free_only=True,
                        )
                        if r.place
                    ]
                else:
                    booked = [
                        book_place(
                            group_class=group_class,
                            patient=patient,
                            source=Source.RECEPTION,
                            booked_by=request.user,
                        )
                    ]
            except DomainError as refusal:
                refused = refusal.extra.get("classes", [])
                form.refuse(refusal)
            else:
                messages.success(request, f"Booked {patient} into {len(booked)} class(es).")
                return HttpResponseRedirect(self._change_url(group_class))
        return self._form_page(
            request,
            form,
            title="Book a patient",
            submit="Book",
            refused=refused,
            group_class=group_class,
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        group_class = self._class_to_change(request, pk)
        form = CancelClassForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                cancel_class(
                    group_class=group_class, by=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as refusal:
                form.refuse(refusal)
            else:
                messages.success(request, f"Cancelled {group_class} and its places.")
                return HttpResponseRedirect(self._change_url(group_class))
        return self._form_page(
            request, form, title="Cancel the class", submit="Cancel it", group_class=group_class
        )

    def _class_to_change(self, request: HttpRequest, pk: int) -> GroupClass:
        group_class = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, group_class):
            raise PermissionDenied
        return group_class

    def _change_url(self, group_class: GroupClass) -> str:
        return reverse("admin:appointments_groupclass_change", args=[group_class.pk])

    def _form_page(self, request: HttpRequest, form: forms.Form, **context) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **context,
        }
        return TemplateResponse(request, "admin/appointments/groupclass/form_page.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ClassPlace)
class ClassPlaceAdmin(NoAccessAdmin, ForgivingQueryAdmin, admin.ModelAdmin):
    """The places: each attendee's attendance is marked here (the actions), one place at
    a time through `mark_attendance`, so a refusal names the place it is about."""

    no_access_message = "You don't have access to this place."
    list_display = ["group_class", "patient", "seat", "status", "attendance"]
    list_filter = ["status", "attendance", ("group_class__start", CalendarDateFieldListFilter)]
    list_select_related = ["patient", "group_class__service", "group_class__practitioner__user"]
    search_fields = ["patient__first_name", "patient__last_name"]
    fields = [
        "group_class",
        "patient",
        "seat",
        "status",
        "attendance",
        "source",
        "booked_by",
        "booked_at",
        "attendance_marked_at",
        "cancelled_at",
        "cancelled_by",
    ]
    readonly_fields = fields
    actions = ["mark_arrived", "mark_no_show", "cancel_places"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ClassPlace]:
        return class_places_for(request.user).select_related("group_class__practitioner__user")

    def has_add_permission(self, request) -> bool:
        return False  # booked from the class's page, which checks the rules

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Mark arrived", permissions=["change"])
    def mark_arrived(self, request: HttpRequest, places: QuerySet[ClassPlace]) -> None:
        self._each(request, places, "marked arrived", self._marking(Attendance.ARRIVED))

    @admin.action(description="Mark no-show", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, places: QuerySet[ClassPlace]) -> None:
        self._each(request, places, "marked a no-show", self._marking(Attendance.NO_SHOW))

    @admin.action(description="Cancel the places (late inside the window)", permissions=["change"])
    def cancel_places(self, request: HttpRequest, places: QuerySet[ClassPlace]) -> None:
        self._each(request, places, "cancelled", lambda place, by: cancel_place(place=place, by=by))

    @staticmethod
    def _marking(attendance: str):
        return lambda place, by: mark_attendance(place=place, attendance=attendance, by=by)

    def _each(self, request: HttpRequest, places: QuerySet[ClassPlace], done: str, change) -> None:
        changed = 0
        for place in places:
            try:
                change(place, request.user)
            except DomainError as refusal:
                messages.error(request, f"{place.patient}: {refusal.detail}")
            else:
                changed += 1
        if changed:
            messages.success(request, f"{changed} place(s) {done}.")
