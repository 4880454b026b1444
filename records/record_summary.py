"""A patient's exported record, laid out for people: sections of entries of labelled lines,
with times in the clinic's zone (a session's in its location's), each with its zone's name,
and choices by their names. The HTML page and the PDF of
the export both print this, so that they say the same."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone

from appointments.models import Status
from audit.models import Action
from notifications.models import Delivery, Kind
from patients.models import Channel
from practice.models import Weekday
from treatments.change import VERDICT_LABELS
from treatments.models import (
    ActivityProfile,
    MeasureKind,
    Phase,
    PlanStatus,
    PostureFinding,
    RedFlag,
    Risk,
    SciaticaSymptom,
    SymptomDuration,
    SymptomLocation,
    TreatedRegion,
)
from waitlist.models import EndReason, OfferStatus


@dataclass(frozen=True)
class Entry:
    heading: str
    lines: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    title: str
    entries: list[Entry]
    if_empty: str = "None."


def record_sections(record: dict[str, Any]) -> list[Section]:
    return [
        _details(record["patient"]),
        Section(
            "Appointments",
            [_appointment(appointment) for appointment in record["appointments"]],
        ),
        Section("Intake questionnaires", [_intake(intake) for intake in record["intakes"]]),
        Section("Treatment plans", [_plan(plan) for plan in record["treatment_plans"]]),
        Section(
            "Treatment notes",
            [_note(note) for note in record["treatment_notes"]],
            if_empty="No signed notes.",
        ),
        Section(
            "Pain and disability scores",
            [_measure(measure) for measure in record["outcome_measures"]],
        ),
        Section(
            "Back pain risk screening (STarT Back)",
            [_screening(screening) for screening in record["risk_screenings"]],
        ),
        Section(
            "Home exercise programme",
            [
                _home_exercise(item, record["home_exercise_logs"])
                for item in record["home_programme"]
            ],
        ),
        Section("Waitlist", [_waiting(entry) for entry in record["waitlist"]]),
        Section("Messages to you", [_message(message) for message in record["messages"]]),
        Section(
            "Who accessed your record",
            [_access(access) for access in record["access_history"]],
        ),
    ]


def _details(patient: dict) -> Section:
    lines = [
        ("Date of birth", _day(patient["date_of_birth"])),
        ("Email", patient["email"] or "—"),
        ("Mobile", patient["mobile"] or "—"),
        ("Preferred channel", _label(Channel, patient["preferred_channel"])),
        ("Email reminders", _yes_no(patient["consent_email"])),
        ("SMS reminders", _yes_no(patient["consent_sms"])),
        ("Consents last changed", _moment(patient["consents_updated_at"])),
        ("Registered", _moment(patient["registered_at"])),
    ]
    if patient["archived_at"]:
        lines.append(("Record archived", _moment(patient["archived_at"])))
    heading = f"{patient['first_name']} {patient['last_name']}"
    return Section("Your details", [Entry(heading, lines)])


def _appointment(appointment: dict) -> Entry:
    lines = [
        ("With", appointment["practitioner"]),
        ("Where", appointment["location"]),
        ("Status", _label(Status, appointment["status"])),
        ("Price", f"${appointment['price']}"),
    ]
    if appointment["cancelled_at"]:
        lines.append(("Cancelled", _moment(appointment["cancelled_at"])))
    if appointment["cancellation_reason"]:
        lines.append(("Reason", appointment["cancellation_reason"]))
    start = _wall_clock(appointment["start"], appointment["time_zone"])
    return Entry(f"{start} — {appointment['service']}", lines)


def _home_exercise(item: dict, logs: list[dict]) -> Entry:
    load = f" at {item['load_kg']} kg" if item["load_kg"] else ""
    until = f" until {_day(item['stopped_on'])}" if item["stopped_on"] else ""
    lines = [
        ("Prescribed", f"{item['sets']} x {item['reps']}{load}, {item['times_per_week']} a week"),
        ("By", item["prescribed_by"]),
        ("From", f"{_day(item['started_on'])}{until}"),
    ]
    if item["notes"]:
        lines.append(("Notes", item["notes"]))
    for log in logs:
        if log["home_exercise"] == item["id"]:
            pain = f", pain {log['pain']}/10" if log["pain"] is not None else ""
            lines.append(
                (
                    _day(log["done_on"]),
                    f"{log['sets_done']} x {log['reps_done']}{pain} {log['note']}",
                )
            )
    return Entry(item["exercise"], lines)


def _waiting(entry: dict) -> Entry:
    times = " to ".join(t[:5] for t in (entry["earliest_time"], entry["latest_time"]) if t)
    lines = [
        ("Practitioners", ", ".join(entry["practitioners"]) or "any"),
        ("Locations", ", ".join(entry["locations"]) or "any"),
        ("Days", _labels(Weekday, entry["weekdays"]) if entry["weekdays"] else "any"),
        ("Times", times or "any"),
        (
            "Dates",
            " to ".join(_day(day) for day in (entry["earliest_date"], entry["latest_date"]) if day),
        ),
        ("Joined", _moment(entry["joined_at"])),
    ]
    for offer in entry.get("offers", []):
        lines.append(
            (
                "Offered",
                f"{_moment(offer['start'])} with {offer['practitioner']}, "
                f"{offer['location']}: {_label(OfferStatus, offer['status']).lower()}",
            )
        )
    if entry["ended_at"]:
        lines.append(
            ("Ended", f"{_moment(entry['ended_at'])}: {_label(EndReason, entry['end_reason'])}")
        )
    return Entry(entry["service"], lines)


def _intake(intake: dict) -> Entry:
    lines = [
        ("Complaint", intake["complaint"]),
        ("Where", _labels(SymptomLocation, intake["symptom_locations"])),
        ("Sciatica symptoms", _labels(SciaticaSymptom, intake["sciatica_symptoms"])),
        ("Pain", f"{intake['pain_score']}/10"),
        ("How long", _label(SymptomDuration, intake["duration"])),
        ("Activity", _label(ActivityProfile, intake["activity"])),
        ("Goals", intake["goals"] or "—"),
        ("Red flags", _labels(RedFlag, intake["red_flags"])),
    ]
    if intake["red_flags_cleared_on"]:
        lines.append(("Red flags cleared", _day(intake["red_flags_cleared_on"])))
    return Entry(f"Submitted {_moment(intake['submitted_at'])}", lines)


def _plan(plan: dict) -> Entry:
    lines = [
        ("Practitioner", plan["practitioner"]),
        ("Goals", plan["goals"]),
        ("Status", _label(PlanStatus, plan["status"])),
        ("Current phase", _label(Phase, plan["current_phase"])),
        ("Maintenance visits", f"every {plan['maintenance_interval_weeks']} weeks"),
    ]
    for phase in plan["phases"]:
        dates = " to ".join(
            _day(day) for day in (phase["started_on"], phase["ended_on"]) if day is not None
        )
        lines.append(
            (
                _label(Phase, phase["phase"]),
                f"{phase['planned_sessions']} sessions, {phase['sessions_per_week']} a week"
                + (f" ({dates})" if dates else ""),
            )
        )
    return Entry(f"Plan with {plan['practitioner']}", lines)


def _note(note: dict) -> Entry:
    lines = [
        ("Signed", f"{_moment(note['signed_at'])} by {note['author']}"),
        ("Subjective", note["subjective"] or "—"),
        ("Pain", f"{note['pain_score']}/10" if note["pain_score"] is not None else "—"),
        ("Pain locations", _labels(SymptomLocation, note["pain_locations"])),
        ("Posture findings", _labels(PostureFinding, note["posture_findings"])),
        ("Regions treated", _labels(TreatedRegion, note["regions_treated"])),
        ("Objective", note["objective"] or "—"),
        ("Assessment", note["assessment"] or "—"),
        ("Plan", note["plan"] or "—"),
    ]
    for exercise in note["exercises"]:
        load = f" at {exercise['load_kg']} kg" if exercise["load_kg"] is not None else ""
        text = f"{exercise['sets']} x {exercise['reps']}{load}, effort {exercise['effort']}/10"
        if exercise["guarded"]:
            text += ", guarded"
        if exercise["comment"]:
            text += f" ({exercise['comment']})"
        lines.append((exercise["exercise"], text))
    for addendum in note["addenda"]:
        lines.append(
            (
                f"Addendum, {_moment(addendum['created_at'])}",
                f"{addendum['text']} — {addendum['author']}",
            )
        )
    start = _wall_clock(note["session_start"], note["time_zone"])
    return Entry(f"{start} — {note['service']}", lines)


def _measure(measure: dict) -> Entry:
    value = Decimal(measure["value"])
    score = {
        MeasureKind.ODI: f"{value}%",
        MeasureKind.RMDQ: f"{value.normalize():f}/24",
        MeasureKind.PSFS: f"{value}/10",
    }.get(measure["kind"], f"{value:.0f}/10")
    lines = [("Score", score)]
    for activity in measure.get("psfs") or []:
        lines.append((activity["activity"], f"{activity['score']}/10"))
    if change := measure.get("change"):
        lines.append(("Change from the first", VERDICT_LABELS[change["verdict"]]))
    return Entry(
        f"{_moment(measure['recorded_at'])} — {_label(MeasureKind, measure['kind'])}", lines
    )


def _screening(screening: dict) -> Entry:
    return Entry(
        f"{_moment(screening['answered_at'])} — {screening['instrument_version']}",
        [
            ("Result", _label(Risk, screening["risk"])),
            ("Total", f"{screening['total']} of 9"),
            ("Psychosocial subscale", f"{screening['psychosocial']} of 5"),
        ],
    )


def _message(message: dict) -> Entry:
    lines = [
        ("Status", _label(Delivery, message["status"])),
        ("Due", _moment(message["due_at"])),
    ]
    if message["sent_at"]:
        lines.append(("Sent", f"{_moment(message['sent_at'])} to {message['recipient']}"))
    if message["subject"]:
        lines.append(("Subject", message["subject"]))
    if message["body"]:
        lines.append(("Message", message["body"]))
    heading = f"{_label(Kind, message['kind'])} by {_label(Channel, message['channel'])}"
    return Entry(heading, lines)


def _access(access: dict) -> Entry:
    who = f"{access['who']} ({access['role']})" if access["role"] else access["who"]
    what = _label(Action, access["action"])
    if access["record"]:
        what += f": {access['record']}"
    lines = [("Who", who), ("What", what)]
    if access["field_labels"]:
        lines.append(("Fields", ", ".join(access["field_labels"])))
    lines.append(("From", access["from"] or "—"))
    return Entry(_moment(access["at"]), lines)


def _moment(value: str | None) -> str:
    """An ISO time in the clinic's time zone."""
    if value is None:
        return "—"
    return _shown(timezone.localtime(datetime.fromisoformat(value)))


def _wall_clock(value: str, zone: str) -> str:
    """An ISO time in the zone of the location where it happens."""
    return _shown(datetime.fromisoformat(value).astimezone(ZoneInfo(zone)))


def _shown(moment: datetime) -> str:
    """Its zone's abbreviation beside every time ("AEDT"), so that none is ambiguous."""
    return f"{moment:%a %d %b %Y %H:%M %Z}"


def _day(value: str) -> str:
    return f"{date.fromisoformat(value):%d %b %Y}"


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _labels(choices: type[models.TextChoices], values: list[str]) -> str:
    return ", ".join(_label(choices, value) for value in values) or "—"


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"
