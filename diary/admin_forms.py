"""Forms of the front desk: book into a free slot, book a course, move an appointment,
cancel one.

They only collect input and show the free slots the scheduling core offers; booking,
moving and cancelling are the services' job, and a refusal comes back as a form error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget, AutocompleteSelect
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from accounts.models import User
from appointments.availability import Slot, free_slots
from appointments.courses import Choice, CourseRule
from appointments.models import MAX_COURSE_INTERVAL_WEEKS, MAX_COURSE_VISITS, Appointment
from appointments.selectors import offered_times
from care.selectors import bookable_patients_for
from kernel.admin_query import CalendarDateField
from kernel.errors import DomainError
from kernel.rest import whole_id
from patients.models import Patient
from practice.models import Location, Practitioner, Service, Weekday


@dataclass(frozen=True)
class ChosenSlot:
    practitioner: Practitioner
    location: Location
    start: datetime


def slot_value(practitioner_id: int, location_id: int, start: datetime) -> str:
    return f"{practitioner_id}|{location_id}|{int(start.timestamp())}"


class SlotField(forms.CharField):
    """A free slot picked from the list (practitioner, location, start).

    Any well-formed slot is accepted, not only those listed: if another desk took it a
    second ago, booking it gives the scheduling core's reason instead of "invalid choice".
    """

    widget = forms.RadioSelect

    def to_python(self, value) -> ChosenSlot | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            practitioner_id, location_id, epoch = (int(part) for part in value.split("|"))
            return ChosenSlot(
                practitioner=Practitioner.objects.select_related("user").get(pk=practitioner_id),
                location=Location.objects.get(pk=location_id),
                start=datetime.fromtimestamp(epoch, UTC),
            )
        except (ValueError, OverflowError, OSError, ObjectDoesNotExist):
            raise forms.ValidationError("Pick one of the free slots.") from None


class RefusalShown:
    """A form that shows a service's refusal."""

    def refuse(self, error: DomainError) -> None:
        """Show the refusal on the form, on the field it names (or above the fields)."""
        fields = error.fields or {}
        placed = False
        for name, messages in fields.items():
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                placed = True
        if not placed:
            self.add_error(None, error.detail)


class SlotPickerForm(RefusalShown, forms.Form):
    """Service, date and optionally practitioner and location → the free slots to pick."""

    service = forms.ModelChoiceField(queryset=Service.objects.filter(is_active=True))
    date = CalendarDateField(widget=AdminDateWidget)
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"),
        required=False,
        help_text="Any practitioner who delivers the service, if left empty.",
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True), required=False
    )
    slot = SlotField(required=False)

    def free_slots(self) -> list[Slot]:
        """The free slots for what the form says so far (none until service and date)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        service, day = data.get("service"), data.get("date")
        if not service or not day:
            return []
        return free_slots(
            service, day, day, practitioner=data.get("practitioner"), location=data.get("location")
        )

    def slot_choices(self, slots: list[Slot]) -> list[tuple[str, str]]:
        practitioners = {p.pk: str(p) for p in self.fields["practitioner"].queryset}
        locations = {loc.pk: loc for loc in self.fields["location"].queryset}
        offered = offered_times(slots)
        choices = []
        for slot in slots:
            location = locations[slot.location_id]
            local = slot.start.astimezone(location.zone)
            label = f"{local:%H:%M} · {practitioners[slot.practitioner_id]} · {location}"
            if slot in offered:
                until = offered[slot].astimezone(location.zone)
                when = f"{until:%H:%M}" if until.date() == local.date() else f"{until:%a %H:%M}"
                label += f" · offered to the waitlist until {when} (booking it withdraws the offer)"
            choices.append((slot_value(slot.practitioner_id, slot.location_id, slot.start), label))
        return choices

    def choose_nearest(self, slots: list[Slot]) -> None:
        """Pre-select the free start nearest the one asked for, with the same practitioner
        and location: an empty time clicked on the grid is not always a start at which the
        service fits (an hour's session in the half hour before the next booking)."""
        wanted = self.cleaned_data.get("slot") if hasattr(self, "cleaned_data") else None
        if wanted is None:
            return
        same = [
            slot
            for slot in slots
            if (slot.practitioner_id, slot.location_id)
            == (wanted.practitioner.pk, wanted.location.pk)
        ]
        if not same or any(slot.start == wanted.start for slot in same):
            return
        nearest = min(same, key=lambda slot: abs(slot.start - wanted.start))
        self.data = {
            **self.data,
            "slot": slot_value(nearest.practitioner_id, nearest.location_id, nearest.start),
        }

    def offer(self, slots: list[Slot]) -> None:
        self.fields["slot"].widget.choices = self.slot_choices(slots)


class BookingForm(SlotPickerForm):
    """Book a patient into a free slot: a patient the user may book for
    (`care.selectors.bookable_patients_for`, as in the API)."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site),
        required=False,
    )
    note = forms.CharField(
        required=False, max_length=500, help_text="For the front desk; patients do not see it."
    )

    field_order = ["patient", "service", "date", "practitioner", "location", "slot", "note"]

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = bookable_patients_for(user)

    def clean(self):
        cleaned = super().clean()
        if self.data.get("book") is not None:
            if not cleaned.get("patient"):
                self.add_error("patient", "Choose the patient.")
            if not cleaned.get("slot"):
                self.add_error("slot", "Pick one of the free slots.")
        return cleaned


class RescheduleForm(SlotPickerForm):
    """Move an appointment: its own service, a new date and slot."""

    def __init__(self, *args, appointment: Appointment, **kwargs):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.fields["service"].disabled = True
        self.fields["service"].initial = appointment.service_id

    def clean(self):
        cleaned = super().clean()
        if self.data.get("move") is not None and not cleaned.get("slot"):
            self.add_error("slot", "Pick the new time.")
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Inside the cancellation window this is recorded as a late cancellation.",
    )


def initial_from_query(query, *, default_date: date | None = None) -> dict:
    """Pre-fill a slot picker from a day-view link (`?service=&date=&practitioner=&start=`)."""
    # A stale or hand-edited link's non-ids are dropped (a widget would look them up).
    ids = {name: whole_id(query.get(name)) for name in ("service", "practitioner", "location")}
    ids["patient"] = whole_id(query.get("patient"))
    initial = {name: pk for name, pk in ids.items() if pk is not None}
    initial["date"] = query.get("date") or default_date or timezone.localdate()
    start = query.get("start")
    practitioner_id, location_id = ids["practitioner"], ids["location"]
    if start and practitioner_id and location_id:
        try:
            moment = datetime.fromisoformat(start)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            initial["slot"] = slot_value(practitioner_id, location_id, moment)
    return initial


class CourseForm(RefusalShown, forms.Form):
    """A course of visits: who, what, with whom, where, and when they fall (the rule)."""

    patient = forms.ModelChoiceField(
        queryset=Patient.objects.none(),
        widget=AutocompleteSelect(Appointment._meta.get_field("patient"), admin.site),
    )
    service = forms.ModelChoiceField(queryset=Service.objects.filter(is_active=True))
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.filter(is_active=True).select_related("user"),
        required=False,
        help_text="Whoever is free at the first visit, then the same for all, if left empty.",
    )
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True))
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
    visits = forms.IntegerField(
        min_value=1, max_value=MAX_COURSE_VISITS, required=False, help_text="Or an end date."
    )
    until = CalendarDateField(widget=AdminDateWidget, required=False, label="Until")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = bookable_patients_for(user)

    def rule(self) -> CourseRule:
        data = self.cleaned_data
        return CourseRule(
            first_date=data["first_date"],
            at=data["at"],
            weekdays=data["weekdays"],
            every_weeks=data["every_weeks"],
            visits=data["visits"],
            until=data["until"],
        )


# What reception picks for one visit of a previewed course.
KEEP, SKIP = "keep", "skip"


def alternative_value(practitioner_id: int, start: datetime) -> str:
    return f"{practitioner_id}|{int(start.timestamp())}"


def course_choices(post, visits: int) -> dict[int, Choice]:
    """Reception's pick for each visit (`visit_<n>`: keep, skip, or an alternative), as the
    choices `book_course` takes; a value that does not read is kept as the rule's time,
    which the booking then checks like any other."""
    choices: dict[int, Choice] = {}
    for number in range(1, visits + 1):
        value = post.get(f"visit_{number}", KEEP)
        if value == SKIP:
            choices[number] = Choice(skip=True)
            continue
        try:
            practitioner_id, epoch = (int(part) for part in value.split("|"))
            practitioner = Practitioner.objects.get(pk=practitioner_id, is_active=True)
            start = datetime.fromtimestamp(epoch, UTC)
        except (ValueError, OverflowError, OSError, ObjectDoesNotExist):
            continue
        choices[number] = Choice(start=start, practitioner=practitioner)
    return choices
