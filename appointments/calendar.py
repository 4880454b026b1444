"""An appointment as a calendar file (RFC 5545), for the patient's own calendar."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from .models import CANCELLED_STATUSES, Appointment


def calendar_file(appointment: Appointment, *, now: datetime | None = None) -> bytes:
    """One VEVENT: the service at the location, in the location's zone (with its VTIMEZONE,
    so a calendar far away still shows the clinic's wall-clock time correctly). The UID is
    the appointment's, so a file downloaded again after a move updates the same event
    instead of adding a second one; a cancelled booking's file says CANCELLED."""
    now = now or timezone.now()
    location = appointment.location
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@{settings.CLINIC_DOMAIN}")
    event.add("dtstamp", now)
    event.add("dtstart", appointment.local_start)
    event.add("dtend", appointment.local_end)
    event.add("summary", appointment.service.name)
    event.add("location", ", ".join(part for part in (location.name, location.address) if part))
    event.add("description", f"With {appointment.practitioner}. {settings.CLINIC_NAME}")
    cancelled = appointment.status in CANCELLED_STATUSES
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # Moving or cancelling changes the event: calendars keep the highest sequence.
    changed = appointment.cancelled_at or appointment.rescheduled_at
    event.add("sequence", int(changed.timestamp()) if changed else 0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
