"""A patient's whole record, as the patient may have it (right of access): everything the
clinic holds about them, including the messages it sent them and who accessed their record.

Signed clinical notes with their addenda are included; drafts are not part of the record
until their author signs them. Every list is read with a fixed number of queries.

Every moment is written in the clinic's time zone (`time_zone`), but for a session's times,
which are in its location's (`time_zone` beside them), as the patient was told them.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst

from appointments.models import Appointment
from audit.models import AuditEntry
from notifications.models import Notification
from patients.models import Patient
from treatments.change import Change, changes_of
from treatments.models import (
    Addendum,
    ExerciseEntry,
    HomeExercise,
    HomeExerciseLog,
    Intake,
    OutcomeMeasure,
    RiskScreening,
    TreatmentNote,
)
from waitlist.models import WaitlistEntry, WaitlistOffer


def export_patient_record(patient: Patient) -> dict[str, Any]:
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("service", "practitioner__user", "location", "room")
        .order_by("start", "pk")
    )
    notes = (
        TreatmentNote.objects.filter(appointment__patient=patient, signed_at__isnull=False)
        .select_related("appointment__service", "appointment__location", "author__user")
        .prefetch_related(
            Prefetch("exercises", queryset=ExerciseEntry.objects.order_by("position", "pk")),
            Prefetch(
                "addenda",
                queryset=Addendum.objects.select_related("author__user").order_by("created_at"),
            ),
        )
        .order_by("appointment__start")
    )
    plans = patient.plans.select_related("practitioner__user").prefetch_related("phases")
    intakes = Intake.objects.filter(patient=patient).select_related("clearance")
    outcomes = list(OutcomeMeasure.objects.filter(patient=patient).order_by("recorded_at", "pk"))
    changes = changes_of(outcomes)
    screenings = RiskScreening.objects.filter(patient=patient).order_by("answered_at", "pk")
    home_programme = (
        HomeExercise.objects.filter(plan__patient=patient)
        .select_related("exercise", "prescribed_by__user")
        .order_by("started_on", "pk")
    )
    home_logs = (
        HomeExerciseLog.objects.filter(patient=patient)
        .select_related("exercise")
        .order_by("done_on", "exercise__name", "pk")
    )
    messages = (
        Notification.objects.filter(patient=patient)
        .select_related("outbox")
        .order_by("due_at", "pk")
    )
    waiting = (
        WaitlistEntry.objects.filter(patient=patient)
        .select_related("service")
        .prefetch_related(
            "practitioners__user",
            "locations",
            Prefetch(
                "offers",
                queryset=WaitlistOffer.objects.select_related(
                    "practitioner__user", "location"
                ).order_by("sent_at", "pk"),
            ),
        )
        .order_by("created_at", "pk")
    )
    accesses = (
        AuditEntry.objects.filter(patient=patient).select_related("actor").order_by("at", "pk")
    )
    return {
        "generated_at": _iso(timezone.now()),
        "time_zone": timezone.get_current_timezone_name(),
        "patient": {
            "id": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "email": patient.email,
            "mobile": str(patient.mobile) if patient.mobile else "",
            "preferred_channel": patient.preferred_channel,
            "consent_email": patient.consent_email,
            "consent_sms": patient.consent_sms,
            "consents_updated_at": _iso(patient.consents_updated_at),
            "registered_at": _iso(patient.created_at),
            "archived_at": _iso(patient.archived_at),
        },
        "appointments": [
            {
                "id": appointment.pk,
                "service": appointment.service.name,
                "practitioner": str(appointment.practitioner),
                "location": appointment.location.name,
                "start": appointment.local_start.isoformat(),
                "end": appointment.local_end.isoformat(),
                "time_zone": appointment.location.time_zone,
                "status": appointment.status,
                "price": str(appointment.price),
                "cancelled_at": _iso(appointment.cancelled_at),
                "cancellation_reason": appointment.cancellation_reason,
            }
            for appointment in appointments
        ],
        "intakes": [
            {
                "submitted_at": _iso(intake.submitted_at),
                "complaint": intake.complaint,
                "symptom_locations": list(intake.symptom_locations),
                "sciatica_symptoms": list(intake.sciatica_symptoms),
                "pain_score": intake.pain_score,
                "duration": intake.duration,
                "activity": intake.activity,
                "goals": intake.goals,
                "red_flags": list(intake.red_flags),
                "red_flags_cleared_on": (
                    intake.clearance.cleared_on.isoformat()
                    if hasattr(intake, "clearance")
                    else None
                ),
            }
            for intake in intakes
        ],
        "treatment_plans": [
            {
                "practitioner": str(plan.practitioner),
                "goals": plan.goals,
                "status": plan.status,
                "current_phase": plan.current_phase,
                "maintenance_interval_weeks": plan.maintenance_interval_weeks,
                "phases": [
                    {
                        "phase": phase.phase,
                        "planned_sessions": phase.planned_sessions,
                        "sessions_per_week": str(phase.sessions_per_week),
                        "started_on": _iso(phase.started_on),
                        "ended_on": _iso(phase.ended_on),
                    }
                    for phase in plan.phases.all()
                ],
            }
            for plan in plans
        ],
        "treatment_notes": [
            {
                "appointment": note.appointment_id,
                "session_start": note.appointment.local_start.isoformat(),
                "time_zone": note.appointment.location.time_zone,
                "service": note.appointment.service.name,
                "author": str(note.author),
                "signed_at": _iso(note.signed_at),
                "subjective": note.subjective,
                "pain_score": note.pain_score,
                "pain_locations": list(note.pain_locations),
                "posture_findings": list(note.posture_findings),
                "regions_treated": list(note.regions_treated),
                "objective": note.objective,
                "assessment": note.assessment,
                "plan": note.plan,
                "exercises": [
                    {
                        "exercise": entry.exercise,
                        "sets": entry.sets,
                        "reps": entry.reps,
                        "load_kg": str(entry.load_kg) if entry.load_kg is not None else None,
                        "effort": entry.effort,
                        "guarded": entry.guarded,
                        "comment": entry.comment,
                    }
                    for entry in note.exercises.all()
                ],
                "addenda": [
                    {
                        "author": str(addendum.author),
                        "created_at": _iso(addendum.created_at),
                        "text": addendum.text,
                    }
                    for addendum in note.addenda.all()
                ],
            }
            for note in notes
        ],
        "outcome_measures": [_measure(measure, changes.get(measure.pk)) for measure in outcomes],
        "risk_screenings": [
            {
                "instrument_version": screening.instrument_version,
                "answered_at": _iso(screening.answered_at),
                "agree": screening.agree,
                "bothersomeness": screening.bothersomeness,
                "total": screening.total,
                "psychosocial": screening.psychosocial,
                "risk": screening.risk,
            }
            for screening in screenings
        ],
        # Every version of every exercise prescribed, and what the patient logged of them.
        "home_programme": [
            {
                "id": item.pk,
                "exercise": item.exercise.name,
                "instructions": item.exercise.instructions,
                "sets": item.sets,
                "reps": item.reps,
                "load_kg": str(item.load_kg) if item.load_kg is not None else None,
                "times_per_week": item.times_per_week,
                "notes": item.notes,
                "started_on": _iso(item.started_on),
                "stopped_on": _iso(item.stopped_on),
                "prescribed_by": str(item.prescribed_by),
            }
            for item in home_programme
        ],
        "home_exercise_logs": [
            {
                "home_exercise": log.home_exercise_id,
                "exercise": log.exercise.name,
                "done_on": _iso(log.done_on),
                "sets_done": log.sets_done,
                "reps_done": log.reps_done,
                "pain": log.pain,
                "note": log.note,
                "logged_at": _iso(log.logged_at),
            }
            for log in home_logs
        ],
        "waitlist": [_waiting(entry) for entry in waiting],
        "messages": [_message(notification) for notification in messages],
        "access_history": [_access(entry) for entry in accesses],
    }


def _measure(measure: OutcomeMeasure, change: Change | None) -> dict[str, Any]:
    """A measure with the answers it was scored from and how it compares with the
    patient's first of its kind (`treatments.change`)."""
    return {
        "kind": measure.kind,
        "value": str(measure.value),
        "recorded_at": _iso(measure.recorded_at),
        "instrument_version": measure.instrument_version,
        "odi_answers": measure.odi_answers,
        "rmdq_answers": measure.rmdq_answers,
        "psfs": None
        if measure.psfs_activities is None
        else [
            {"activity": activity, "score": score}
            for activity, score in zip(
                measure.psfs_activities, measure.psfs_scores or [], strict=False
            )
        ],
        "change": None
        if change is None
        else {
            "verdict": change.verdict,
            "baseline": str(change.baseline),
            "recovered": change.recovered,
        },
    }


def _waiting(entry: WaitlistEntry) -> dict[str, Any]:
    """What the patient asked to wait for; the desk's note about it is the clinic's, as an
    appointment's is."""
    return {
        "service": entry.service.name,
        "practitioners": [str(practitioner) for practitioner in entry.practitioners.all()],
        "locations": [location.name for location in entry.locations.all()],
        "weekdays": list(entry.weekdays),
        "earliest_time": _iso(entry.earliest_time),
        "latest_time": _iso(entry.latest_time),
        "earliest_date": _iso(entry.earliest_date),
        "latest_date": _iso(entry.latest_date),
        "sooner_than_appointment": entry.sooner_than_id,
        "urgent": entry.urgent,
        "joined_at": _iso(entry.created_at),
        "ended_at": _iso(entry.ended_at),
        "end_reason": entry.end_reason or None,
        # The freed times offered to the patient for it, and what became of each.
        "offers": [
            {
                "start": _iso(offer.start),
                "practitioner": str(offer.practitioner),
                "location": offer.location.name,
                "status": offer.status,
                "sent_at": _iso(offer.sent_at),
                "expires_at": _iso(offer.expires_at),
                "ended_at": _iso(offer.ended_at),
                "appointment": offer.appointment_id,
            }
            for offer in entry.offers.all()
        ],
    }


def _message(notification: Notification) -> dict[str, Any]:
    """A message to the patient: what, how, what became of it, and its words once written
    (a message is worded when it is sent; the outbox keeps what it "sent")."""
    outbox = getattr(notification, "outbox", None)
    return {
        "kind": notification.kind,
        "channel": notification.channel,
        "appointment": notification.appointment_id,
        "status": notification.status,
        "due_at": _iso(notification.due_at),
        "sent_at": _iso(notification.sent_at),
        "recipient": notification.recipient or (outbox.recipient if outbox else ""),
        "subject": notification.subject or (outbox.subject if outbox else ""),
        "body": notification.body or (outbox.body if outbox else ""),
    }


def _access(entry: AuditEntry) -> dict[str, Any]:
    """One access to the record: who (by name and role, not by login), what, when, from
    where; for a change, the fields changed: their names and how people call them."""
    fields = entry.detail.get("fields", [])
    return {
        "at": _iso(entry.at),
        "who": _who(entry),
        "role": entry.actor_role,
        "action": entry.action,
        "record": _record_name(entry.object_type),
        "record_id": entry.object_id,
        "fields": fields,
        "field_labels": [_field_label(entry.object_type, name) for name in fields],
        "from": entry.source_ip or "",
    }


# Who someone without a name on their login was, by the role they acted in.
_ROLE_NAMES = {
    "patient": "You",
    "reception": "Reception staff",
    "practitioner": "A practitioner",
    "manager": "The clinic manager",
}


def _who(entry: AuditEntry) -> str:
    """The actor's name; never a login email (a member of staff's is theirs, not the
    patient's to have): someone with no name on their login is named by their role."""
    if entry.actor is not None and (name := entry.actor.get_full_name().strip()):
        return name
    if entry.actor is None and not entry.actor_role:
        return "The clinic's system"
    return _ROLE_NAMES.get(entry.actor_role, "A member of the clinic's staff")


def _record_name(object_type: str) -> str:
    """ "patients.patient" → "patient" (the model's verbose name)."""
    if not object_type:
        return ""
    try:
        return str(apps.get_model(object_type)._meta.verbose_name)
    except LookupError:
        return object_type


def _field_label(object_type: str, name: str) -> str:
    """ "consents_updated_at" → "Consents updated at": the field's verbose name (an inline's,
    such as "exercises", is its model's plural), else the name in words."""
    try:
        field = apps.get_model(object_type)._meta.get_field(name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return capfirst(name.replace("_", " "))
    if field.auto_created and not field.concrete:  # a reverse relation
        return capfirst(field.related_model._meta.verbose_name_plural)
    return capfirst(field.verbose_name)


def _iso(value: datetime | date | time | None) -> str | None:
    """A date or a time of day as it is; a moment in the clinic's time zone (stored in UTC)."""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return value.isoformat() if value is not None else None
