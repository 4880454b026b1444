"""What the diary announces, for whoever acts on it (the messages to patients:
`notifications.receivers`).

Each is sent by `appointments.services` inside the change's transaction, after the change is
saved: what a receiver writes commits or rolls back with it, and a receiver that fails undoes
the change. Arguments: `appointment`, as saved, and `now`, the moment of the change (what a
receiver schedules is timed from it, not from the clock). `appointment_moved` also names
`moved_from`, the `Moved` time the appointment left (what the waitlist offers again).

`working_time_changed` is sent by `change_working_time` in its transaction, after the change:
`practitioner_ids` and `now` (hours added or leave removed may have freed time).
"""

from dataclasses import dataclass
from datetime import datetime

from django.dispatch import Signal

appointment_booked = Signal()
appointment_moved = Signal()
appointment_cancelled = Signal()
working_time_changed = Signal()


@dataclass(frozen=True)
class Moved:
    """Where a moved appointment was: the time it gave up."""

    practitioner_id: int
    location_id: int
    start: datetime
    blocked_until: datetime


# A course's visits were booked (`courses.book_course`), each already announced by
# `appointment_booked`: arguments `course`, `appointments` (its booked visits) and `now`.
course_booked = Signal()
# Visits of a course were cancelled together (`courses.cancel_course_visits`), each already
# announced by `appointment_cancelled` with `in_course_change=True`: arguments `course`,
# `appointments` (the cancelled visits) and `now`.
course_visits_cancelled = Signal()
