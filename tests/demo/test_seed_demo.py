import itertools
from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Min
from django.utils import timezone

from appointments.availability import working_windows
from appointments.models import (
    Appointment,
    ClassPlace,
    Course,
    GroupClass,
    PlaceStatus,
    Source,
    Status,
)
from demo.seed import seed_demo
from notifications.models import Delivery, Kind, Notification, OutboxMessage
from patients.models import Patient
from practice.models import (
    BookingRules,
    Break,
    Discipline,
    ExtraHours,
    Leave,
    Location,
    Practitioner,
    Room,
    RoomKind,
    Service,
    WorkingHours,
)
from treatments.models import (
    Addendum,
    ExerciseEntry,
    HomeExercise,
    HomeExerciseLog,
    Intake,
    MeasureKind,
    OutcomeMeasure,
    Phase,
    PlanStatus,
    TreatmentNote,
    TreatmentPlan,
    odi_percent,
)
from treatments.outcomes_report import GroupBy, default_period, outcomes_report
from treatments.selectors import adherence_of
from treatments.services import open_red_flags

# One worker seeds the demo clinic for both modules (`make test` runs `--dist loadgroup`).
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("demo_clinic"),
    pytest.mark.xdist_group("demo_clinic"),
]

PAST_STATUSES = {Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCELLED}


def test_leaves_the_booking_rules_at_their_defaults():
    rules = BookingRules.current()
    assert (
        rules.slot_grid_minutes,
        rules.online_lead_time_minutes,
        rules.online_horizon_days,
        rules.cancellation_window_hours,
    ) == (15, 120, 56, 24)


def test_two_melbourne_locations_with_two_treatment_rooms_and_a_gym_for_three():
    locations = Location.objects.all()
    assert sorted(location.name for location in locations) == ["CBD", "Richmond"]
    for location in locations:
        assert location.time_zone == "Australia/Melbourne"
        assert location.address
        rooms = sorted((room.kind, room.capacity) for room in location.rooms.all())
        assert rooms == [(RoomKind.GYM, 3), (RoomKind.TREATMENT, 1), (RoomKind.TREATMENT, 1)]


def test_the_clinics_services():
    services = {service.name: service for service in Service.objects.all()}
    assert set(services) == {
        "Initial assessment",
        "Myotherapy — SMM (45 min)",
        "Myotherapy — SMM (60 min)",
        "NMPT session",
        "NMPT group class",
        "Sciatica specialist consultation",
        "Maintenance myotherapy",
    }
    assessment = services["Initial assessment"]
    assert assessment.is_assessment and assessment.duration_minutes == 60
    assert [s.name for s in services.values() if s.is_assessment] == ["Initial assessment"]
    assert services["NMPT session"].room_kind == RoomKind.GYM
    assert services["NMPT session"].disciplines == [Discipline.NMPT]
    assert Discipline.SCIATICA in services["Sciatica specialist consultation"].disciplines
    assert not services["Sciatica specialist consultation"].bookable_online
    for service in services.values():
        assert 0 <= service.buffer_after_minutes <= 15
        assert service.price > 0


def test_practitioners_cover_every_discipline_with_rotas_leave_and_extra_hours():
    practitioners = list(Practitioner.objects.select_related("user"))
    assert len(practitioners) >= 5
    assert {d for p in practitioners for d in p.disciplines} == set(Discipline.values)
    for practitioner in practitioners:
        assert practitioner.user.is_staff
        assert practitioner.user.email.endswith("@clinic.example")
        assert practitioner.user.get_full_name()
        assert practitioner.rota.exists()
    assert {line.location.name for line in WorkingHours.objects.select_related("location")} == {
        "CBD",
        "Richmond",
    }
    assert Break.objects.exists()
    assert Leave.objects.count() == 1
    assert ExtraHours.objects.count() == 1


def test_fifty_patients_with_australian_contact_details_and_mixed_consents():
    patients = list(Patient.objects.all())
    assert len(patients) == 50
    assert len({(p.first_name, p.last_name) for p in patients}) == 50
    for patient in patients:
        assert patient.email.endswith("@example.com")
        assert str(patient.mobile).startswith("+614")
        assert len(str(patient.mobile)) == 12
    assert {p.consent_email for p in patients} == {True, False}
    assert {p.consent_sms for p in patients} == {True, False}


def test_every_patient_has_past_and_future_appointments(demo_clinic):
    now = demo_clinic.at
    for patient in Patient.objects.all():
        appointments = list(patient.appointments.all())
        past = [a for a in appointments if a.start < now]
        future = [a for a in appointments if a.start > now]
        assert past, patient
        assert future, patient
        assert {a.status for a in past} <= PAST_STATUSES
        assert {a.status for a in future} <= {Status.BOOKED, Status.CANCELLED}
        assert {a.source for a in future} == {Source.RECEPTION}
    assert Appointment.objects.filter(start__lt=now - timedelta(days=150)).exists()
    assert Appointment.objects.filter(start__gt=now + timedelta(days=14)).exists()
    assert not Appointment.objects.filter(start__gt=now + timedelta(days=29)).exists()
    assert Appointment.objects.filter(status=Status.NO_SHOW).exists()
    late = Appointment.objects.filter(status=Status.LATE_CANCELLED)
    assert late.exists()
    assert not late.filter(cancelled_at__isnull=True).exists()


def test_every_patients_first_appointment_is_a_completed_assessment():
    firsts = Patient.objects.annotate(first=Min("appointments__start"))
    for patient in firsts:
        first = patient.appointments.get(start=patient.first)
        assert first.service.is_assessment, patient
        assert first.status == Status.COMPLETED, patient


def test_past_visits_lived_through_the_services_at_their_moments(demo_clinic):
    """Booked a week ahead; attended visits checked in shortly before their start and
    completed at their end; late cancellations inside the window, as the rule decided."""
    window = BookingRules.current().cancellation_window
    past = Appointment.objects.filter(start__lt=demo_clinic.at)
    assert past.exists()
    for visit in past:
        assert visit.created_at == visit.start - timedelta(days=7), visit
        if visit.status == Status.COMPLETED:
            assert visit.start - timedelta(minutes=12) <= visit.checked_in_at < visit.start
            assert visit.completed_at == visit.updated_at == visit.end
        elif visit.status == Status.LATE_CANCELLED:
            assert visit.start - window < visit.cancelled_at < visit.start, visit
            assert visit.cancellation_reason
        else:
            assert visit.status == Status.NO_SHOW, visit


def test_appointments_obey_the_rota_rooms_grid_and_prices():
    appointments = list(
        Appointment.objects.select_related("service", "practitioner", "room", "location")
    )
    first_day = min(timezone.localdate(a.start) for a in appointments) - timedelta(days=1)
    last_day = max(timezone.localdate(a.start) for a in appointments) + timedelta(days=1)
    windows = defaultdict(list)
    for window in working_windows(
        Practitioner.objects.values_list("pk", flat=True), first_day, last_day
    ):
        windows[window.practitioner_id, window.location_id].append(window)
    leave = list(Leave.objects.all())
    for a in appointments:
        service = a.service
        assert a.end == a.start + service.duration
        assert a.blocked_until == a.end + service.buffer_after
        assert a.price == service.price
        assert a.room.location_id == a.location_id
        assert a.room.kind == service.room_kind
        assert 1 <= a.room_place <= a.room.capacity
        assert set(a.practitioner.disciplines) & set(service.disciplines)
        local = timezone.localtime(a.start, a.location.zone)
        assert local.minute % 15 == 0 and local.second == 0
        start, end = int(a.start.timestamp()), int(a.end.timestamp())
        assert any(
            w.start <= start and end <= w.end for w in windows[a.practitioner_id, a.location_id]
        ), a
        assert not any(
            off.practitioner_id == a.practitioner_id and off.start < a.end and a.start < off.end
            for off in leave
        ), a


def test_running_it_again_changes_nothing(demo_clinic):
    models = [Location, Room, Service, Practitioner, WorkingHours, Break, Leave, ExtraHours]
    models += [Patient, Appointment, BookingRules]
    models += [Intake, TreatmentPlan, TreatmentNote, ExerciseEntry, Addendum, OutcomeMeasure]
    models += [Notification]

    def snapshot():
        return {
            "counts": {model.__name__: model.objects.count() for model in models},
            "appointments": list(
                Appointment.objects.order_by("pk").values_list(
                    "pk", "patient_id", "practitioner_id", "start", "status", "room_id"
                )
            ),
            "patients": list(Patient.objects.order_by("pk").values_list("pk", "updated_at")),
            "notes": list(
                TreatmentNote.objects.order_by("pk").values_list("pk", "signed_at", "pain_score")
            ),
            "plans": list(
                TreatmentPlan.objects.order_by("pk").values_list(
                    "pk", "current_phase", "updated_at"
                )
            ),
        }

    before = snapshot()
    again = seed_demo()
    assert again.created_appointments == 0
    assert not again.created_clinical_records
    assert snapshot() == before
    assert again.appointments == demo_clinic.appointments
    assert again.patients == 50


# Clinical records ------------------------------------------------------------------------

PHASE_OF_SERVICE = {
    "Myotherapy — SMM (45 min)": Phase.RELEASE,
    "Myotherapy — SMM (60 min)": Phase.RELEASE,
    "NMPT session": Phase.STRENGTHEN,
    "Maintenance myotherapy": Phase.MAINTAIN,
}


def local_day(moment):
    return timezone.localdate(moment, ZoneInfo("Australia/Melbourne"))


def test_the_summary_reports_the_clinical_records_and_the_time_taken(demo_clinic):
    """How long seeding takes is measured where it matters, by .ci/check_make_run.py (make
    run's banner within 3 minutes of a fresh clone), not by a timed unit test."""
    assert demo_clinic.created_clinical_records
    lines = "\n".join(demo_clinic.lines())
    assert "intakes" in lines and "ODIs" in lines
    assert f"ready in {demo_clinic.seconds:.1f} s" in lines


def test_demo_practitioners_are_in_the_practitioner_group():
    for practitioner in Practitioner.objects.select_related("user"):
        assert practitioner.user.groups.filter(name="Practitioner").exists(), practitioner


def test_every_patient_filled_in_an_intake_before_their_assessment():
    for patient in Patient.objects.all():
        intakes = list(patient.intakes.order_by("submitted_at"))
        first = patient.appointments.order_by("start").first()
        assert intakes, patient
        assert intakes[0].submitted_at < first.start, patient
        assert 0 <= intakes[0].pain_score <= 10
        assert intakes[0].complaint and intakes[0].goals


def test_a_few_red_flags_most_cleared_before_hands_on_treatment(demo_clinic):
    flagged = Intake.objects.exclude(red_flags=[]).select_related("clearance")
    cleared = [intake for intake in flagged if hasattr(intake, "clearance")]
    assert 3 <= len(cleared) <= 8
    for intake in cleared:
        clearance = intake.clearance
        assert clearance.note and clearance.cleared_by.is_staff
        assert clearance.cleared_on <= timezone.localdate()
        first_release = intake.patient.plans.get().phases.get(phase=Phase.RELEASE).started_on
        if first_release is not None:
            assert clearance.cleared_on <= first_release, intake.patient
    open_flags = [p for p in Patient.objects.all() if open_red_flags(p)]
    assert len(open_flags) == 2
    assert any(p.appointments.filter(start__gt=demo_clinic.at).exists() for p in open_flags)


def test_one_active_plan_per_patient_and_every_phase_in_use():
    plans = list(TreatmentPlan.objects.prefetch_related("phases"))
    assert len(plans) == 50
    assert {plan.status for plan in plans} == {PlanStatus.ACTIVE}
    in_phase = Counter(plan.current_phase for plan in plans)
    assert set(in_phase) == set(Phase.values), in_phase
    for plan in plans:
        maintain = next(p for p in plan.phases.all() if p.phase == Phase.MAINTAIN)
        assert (plan.maintenance_started_at is not None) == (maintain.started_on is not None)


def test_phases_start_and_end_on_the_days_of_the_visits():
    now = timezone.now()
    for plan in TreatmentPlan.objects.select_related("patient").prefetch_related("phases"):
        visits = list(
            plan.patient.appointments.filter(start__lt=now, status=Status.COMPLETED)
            .select_related("service")
            .order_by("start")
        )
        phases = {phase.phase: phase for phase in plan.phases.all()}
        assert phases[Phase.ASSESS].started_on == local_day(visits[0].start), plan
        started = [p for p in Phase if phases[p].started_on is not None]
        assert started[-1] == plan.current_phase, plan
        for earlier, later in itertools.pairwise(started):
            assert phases[earlier].ended_on == phases[later].started_on, plan
        assert phases[plan.current_phase].ended_on is None
        for phase in started[1:]:
            first_of_kind = next(
                local_day(v.start) for v in visits if PHASE_OF_SERVICE.get(v.service.name) == phase
            )
            assert phases[phase].started_on == first_of_kind, (plan, phase)


def test_completed_sessions_have_signed_soap_notes_by_their_practitioner(demo_clinic):
    a_day_ago = demo_clinic.at - timedelta(days=1)
    completed = Appointment.objects.filter(status=Status.COMPLETED).select_related("treatment_note")
    for appointment in completed:
        note = getattr(appointment, "treatment_note", None)
        assert note is not None, appointment
        assert note.author_id == appointment.practitioner_id
        assert note.subjective and note.assessment and note.plan
        assert note.pain_score is not None
        if appointment.end < a_day_ago:
            assert note.is_signed, appointment
            assert appointment.end <= note.signed_at < appointment.end + timedelta(hours=4)
    assert not TreatmentNote.objects.exclude(appointment__status=Status.COMPLETED).exists()
    assert TreatmentNote.objects.filter(
        posture_findings__contains=["anterior_pelvic_tilt"]
    ).exists()
    assert TreatmentNote.objects.filter(regions_treated__contains=["piriformis"]).exists()


def test_nmpt_sessions_log_squats_deadlifts_sprints_and_stretches_some_guarded():
    nmpt = TreatmentNote.objects.filter(appointment__service__name="NMPT session")
    assert nmpt.exists()
    for note in nmpt.prefetch_related("exercises"):
        names = " ".join(entry.exercise for entry in note.exercises.all())
        assert "squat" in names and "deadlift" in names and "stretch" in names, note
    entries = ExerciseEntry.objects.filter(note__in=nmpt)
    assert entries.filter(exercise__startswith="Sprint").exists()
    guarded = entries.filter(guarded=True)
    assert guarded.exists()
    assert guarded.count() < entries.count() / 5
    assert not ExerciseEntry.objects.exclude(note__in=nmpt).exists()


def test_addenda_amend_signed_notes_after_signing():
    addenda = list(Addendum.objects.select_related("note"))
    assert addenda
    for addendum in addenda:
        assert addendum.note.is_signed
        assert addendum.created_at > addendum.note.signed_at
        assert addendum.author_id == addendum.note.author_id


def test_a_pain_score_for_every_signed_note():
    signed = TreatmentNote.objects.filter(signed_at__isnull=False)
    pain = OutcomeMeasure.objects.filter(kind=MeasureKind.PAIN)
    assert pain.count() == signed.count()
    for note in signed.select_related("appointment"):
        measure = pain.get(appointment=note.appointment)
        assert measure.value == note.pain_score
        assert measure.recorded_at == note.appointment.start


def test_odi_at_the_assessment_and_every_few_weeks_trending_down():
    falling, long_histories = 0, 0
    for patient in Patient.objects.all():
        series = list(patient.outcomes.filter(kind=MeasureKind.ODI).order_by("recorded_at"))
        first = patient.appointments.order_by("start").first()
        assert series and series[0].recorded_at == first.start, patient
        for earlier, later in itertools.pairwise(series):
            assert (local_day(later.recorded_at) - local_day(earlier.recorded_at)).days >= 28
        for measure in series:
            assert measure.value == odi_percent(measure.odi_answers)
        if (timezone.now() - first.start).days > 90:
            long_histories += 1
            assert len(series) >= 3, patient
            falling += series[-1].value < series[0].value
    assert long_histories >= 10
    assert falling >= 0.9 * long_histories


# Messages ---------------------------------------------------------------------------------


def test_past_visits_have_their_messages_in_the_log():
    """Each past visit of a consenting patient: a confirmation a week before and the
    reminders, sent outside quiet hours on the channels the patient agreed to."""
    sent = Notification.objects.filter(status=Delivery.SENT).select_related(
        "appointment", "patient"
    )
    visits = Appointment.objects.filter(
        status__in=[Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCELLED]
    )
    emailed = visits.filter(patient__consent_email=True, patient__email__gt="")
    confirmations = sent.filter(kind=Kind.CONFIRMATION, channel="email")
    assert set(confirmations.values_list("appointment_id", flat=True)) == set(
        emailed.values_list("pk", flat=True)
    )
    for message in sent.filter(appointment__status=Status.COMPLETED)[:300]:
        assert message.patient.consent_email or message.channel != "email"
        assert message.patient.consent_sms or message.channel != "sms"
        assert message.sent_at < message.appointment.start
        assert 8 <= local_hour(message.sent_at) < 20
        assert message.body and message.recipient
    late = sent.filter(kind=Kind.CANCELLED, appointment__status=Status.LATE_CANCELLED)
    assert late.exists()
    assert not Notification.objects.filter(
        kind=Kind.REMINDER,
        status=Delivery.SENT,
        appointment__status=Status.LATE_CANCELLED,
        sent_at__gt=F("appointment__cancelled_at"),
    ).exists()


def test_no_message_of_the_past_is_left_waiting(demo_clinic):
    """Each message due before the seed's moment was sent or withdrawn: what the plain
    sends did not settle, the sender did (a cancellation's notice went to the outbox)."""
    assert not Notification.objects.filter(
        status=Delivery.PENDING, due_at__lt=demo_clinic.at
    ).exists()
    notices = OutboxMessage.objects.filter(notification__kind=Kind.CANCELLED)
    assert notices.filter(notification__appointment__status=Status.LATE_CANCELLED).exists()


def local_hour(moment):
    return moment.astimezone(ZoneInfo("Australia/Melbourne")).hour


def test_a_weekly_nmpt_group_series_with_places_booked(demo_clinic):
    classes = list(GroupClass.objects.select_related("service", "practitioner__user"))
    assert classes
    assert {c.service.name for c in classes} == {"NMPT group class"}
    assert {c.local_start.weekday() for c in classes} <= {0, 2}
    assert len({c.series_id for c in classes}) == 1
    places = ClassPlace.objects.filter(group_class__in=classes, status=PlaceStatus.BOOKED)
    assert places.exists()
    assert demo_clinic.group_classes == len(classes)
    assert demo_clinic.class_places == places.count()


def test_some_patients_booked_a_course_in_one_step(demo_clinic):
    courses = list(Course.objects.prefetch_related("appointments"))
    assert len(courses) >= 2
    assert demo_clinic.courses == len(courses)
    for course in courses:
        visits = list(course.appointments.all())
        assert visits, course
        assert {visit.patient_id for visit in visits} == {course.patient_id}
        assert {visit.service_id for visit in visits} == {course.service_id}
        assert all(visit.start > demo_clinic.at for visit in visits)
    # One confirmation per course, not one per visit.
    for course in courses:
        first = min(course.appointments.all(), key=lambda visit: visit.start)
        assert not first.notifications.filter(kind="confirmation").exists()


def test_some_assessed_patients_wait_on_the_waitlist_a_few_urgent(demo_clinic):
    from waitlist.models import WaitlistEntry

    entries = WaitlistEntry.objects.filter(ended_at__isnull=True)

    assert 10 <= entries.count() <= 18
    assert entries.filter(urgent=True).count() == 3
    assert len({entry.service_id for entry in entries}) == 3
    assert any("waitlist" in line for line in demo_clinic.lines())


# The manager's outcomes report ------------------------------------------------------------


def test_the_managers_outcomes_report_shows_the_demo_cohorts_figures(demo_clinic):
    """The demo's six months of care: enough patients past 6 and 12 weeks for every figure,
    some improved and (the slow responders, `demo.stories._responds_slowly`) some not, and
    groups too small to show withheld."""
    start, end = default_period(timezone.localdate(demo_clinic.at))
    reports = {
        by: outcomes_report(start=start, end=end, by=by, now=demo_clinic.at) for by in GroupBy
    }

    overall = reports[GroupBy.PRACTITIONER].overall
    assert overall.patients >= 40 and overall.withheld is None
    for kind in (MeasureKind.ODI, MeasureKind.PAIN):
        early, late = overall.tallies[kind, 6], overall.tallies[kind, 12]
        assert early.improved >= 10 and early.not_improved >= 1, kind
        assert late.measured >= 10 and late.improved >= 5, kind
        assert overall.sessions[kind].n >= 5 and overall.sessions[kind].median >= 2
    for by in (GroupBy.PRACTITIONER, GroupBy.SERVICE):
        withheld = [group.withheld for group in reports[by].groups]
        assert None in withheld and any(withheld), by


def test_patients_in_maintenance_keep_a_home_programme_with_some_steadiness(demo_clinic):
    maintaining = TreatmentPlan.objects.filter(
        status=PlanStatus.ACTIVE, current_phase=Phase.MAINTAIN
    )
    assert maintaining.exists()
    today = timezone.localdate(demo_clinic.at)
    percents = []
    for plan in maintaining.select_related("patient"):
        programme = HomeExercise.objects.filter(plan=plan)
        assert programme.count() == 3, plan
        assert {item.started_on for item in programme} == {
            timezone.localdate(plan.maintenance_started_at)
        }
        weeks = adherence_of(programme, today)
        if weeks:
            percents.append(sum(w.done for w in weeks) / sum(w.prescribed for w in weeks))
    assert HomeExerciseLog.objects.exists()
    assert not HomeExercise.objects.exclude(plan__current_phase=Phase.MAINTAIN).exists()
    # Some keep it up better than others: the practitioner has something to see.
    assert max(percents) - min(percents) > 0.2
