"""Clinical records: intake and red flags, treatment plans, signed session notes with
exercise logs and addenda, and outcome measures (pain, Oswestry Disability Index).

A signed note is a clinical record: PostgreSQL triggers, declared in each model's
`Meta.triggers`, refuse to change or delete it, its exercise log or any addendum, whatever
code or SQL tries (their names: `treatments.finality`). No clinical record is ever deleted
(`patients.models.never_deleted` on the others). A draft note is not refused: until its
author signs it, it is the author's working copy and not yet part of the record (a
patient's export leaves drafts out too), and saving a draft rewrites its exercise log.
"""

from __future__ import annotations

import operator
from decimal import Decimal
from functools import reduce

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone

from appointments.models import Appointment
from kernel.fields import ChoiceArrayField
from kernel.triggers import Refuse, UnskippableTrigger, refusal
from patients.models import Patient, never_deleted
from practice.models import Practitioner

from .finality import ADDENDUM_IS_FINAL, EXERCISE_LOG_OF_SIGNED_NOTE_IS_FINAL, SIGNED_NOTE_IS_FINAL
from .instruments import (
    ODI_SECTIONS,
    PSFS_ACTIVITY_LENGTH,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
    RMDQ_ITEMS,
)
from .instruments import odi_percent as odi_percent  # scored there; imported from here too


class SymptomLocation(models.TextChoices):
    LOWER_BACK = "lower_back", "Lower back"
    BUTTOCK_LEFT = "buttock_left", "Buttock (left)"
    BUTTOCK_RIGHT = "buttock_right", "Buttock (right)"
    HIP_LEFT = "hip_left", "Hip (left)"
    HIP_RIGHT = "hip_right", "Hip (right)"
    LEG_LEFT = "leg_left", "Leg (left)"
    LEG_RIGHT = "leg_right", "Leg (right)"


class SciaticaSymptom(models.TextChoices):
    PINS_AND_NEEDLES = "pins_and_needles", "Pins and needles"
    NUMBNESS_BURNING_TINGLING = "numbness_burning_tingling", "Numbness, burning or tingling"
    SHARP_PAIN_DOWN_LEG = "sharp_pain_down_leg", "Sharp or stabbing pain down a leg"
    LEG_WEAKNESS = "leg_weakness", "Weakness in the legs"
    CONSTANT_PAIN = "constant_pain", "Constant pain"
    TROUBLE_SLEEPING = "trouble_sleeping", "Trouble sleeping from pain"


class RedFlag(models.TextChoices):
    """Answers that mean the patient may need a physician before the first session."""

    SEVERE_LEG_PAIN = "severe_leg_pain", "Severe pain down the legs"
    LEG_WEAKNESS_EPISODES = "leg_weakness_episodes", "Episodes of leg weakness"
    BLADDER_BOWEL_CHANGE = "bladder_bowel_change", "Bladder or bowel changes"
    SADDLE_NUMBNESS = "saddle_numbness", "Saddle numbness"
    FEVER = "fever", "Fever"
    UNEXPLAINED_WEIGHT_LOSS = "unexplained_weight_loss", "Unexplained weight loss"
    RECENT_TRAUMA = "recent_trauma", "Recent trauma (fall, accident)"


class SymptomDuration(models.TextChoices):
    ACUTE = "acute", "Acute (under 6 weeks)"
    SUBACUTE = "subacute", "Subacute (6 to 12 weeks)"
    CHRONIC = "chronic", "Chronic (over 12 weeks)"


class ActivityProfile(models.TextChoices):
    SEDENTARY = "sedentary", "Mostly sedentary"
    NEW_RUNNER = "new_runner", "New runner"
    RETURNING_RUNNER = "returning_runner", "Returning after a break"
    SEASONED_RUNNER = "seasoned_runner", "Seasoned runner"
    OTHER_SPORT = "other_sport", "Other sport or training"


def _score_field(**kwargs) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)], **kwargs
    )


class Intake(models.Model):
    """The intake questionnaire, filled in by the patient online or entered by staff."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    submitted_at = models.DateTimeField(auto_now_add=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    complaint = models.TextField("presenting complaint")
    symptom_locations = ChoiceArrayField(choices=SymptomLocation.choices, blank=True)
    sciatica_symptoms = ChoiceArrayField(choices=SciaticaSymptom.choices, blank=True)
    pain_score = _score_field(help_text="0 (none) to 10 (worst imaginable).")
    duration = models.CharField(max_length=20, choices=SymptomDuration.choices)
    activity = models.CharField(max_length=20, choices=ActivityProfile.choices)
    goals = models.TextField(blank=True)
    red_flags = ChoiceArrayField(
        choices=RedFlag.choices, blank=True, help_text="Answered yes: physician first?"
    )

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["patient", "-submitted_at"], name="intake_patient_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(pain_score__lte=10), name="intake_pain_0_10"),
        ]
        triggers = [never_deleted("treatments_intake_is_never_deleted")]

    def __str__(self) -> str:
        return f"Intake of {self.patient} ({self.submitted_at:%Y-%m-%d})"


class RedFlagClearance(models.Model):
    """A practitioner's record that an intake's red flags were dealt with (e.g. seen by a GP)."""

    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, related_name="clearance")
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cleared_on = models.DateField(help_text="When the patient was cleared (e.g. the GP visit).")
    recorded_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(help_text="Who cleared the patient and what was found.")

    class Meta:
        triggers = [never_deleted("treatments_redflagclearance_is_never_deleted")]

    def __str__(self) -> str:
        return f"Red flags cleared on {self.cleared_on}"


class Phase(models.TextChoices):
    ASSESS = "assess", "Assess"
    RELEASE = "release", "Release (myotherapy)"
    STRENGTHEN = "strengthen", "Strengthen (NMPT)"
    MAINTAIN = "maintain", "Maintain"


PHASE_ORDER = [Phase.ASSESS, Phase.RELEASE, Phase.STRENGTHEN, Phase.MAINTAIN]


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DISCONTINUED = "discontinued", "Discontinued"


def _weeks_field(help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text=help_text,
    )


class TreatmentPlan(models.Model):
    """A course of care: goals, the pathway's phases, and where the patient is on it."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="plans")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="plans")
    goals = models.TextField()
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    current_phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.ASSESS)
    maintenance_interval_weeks = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="In the maintenance phase, how often the patient should come back.",
    )
    maintenance_started_at = models.DateTimeField(null=True, blank=True)
    # How often each questionnaire is taken while the plan is active (empty: not planned);
    # pain is scored at every visit, in the session's note. `selectors.measures_due_among`
    # says who is due.
    odi_every_weeks = _weeks_field("Take the Oswestry Disability Index every so many weeks.")
    rmdq_every_weeks = _weeks_field("Take the Roland-Morris every so many weeks.")
    psfs_every_weeks = _weeks_field(
        "Take the Patient-Specific Functional Scale every so many weeks."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One active course of care per patient at a time.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status=PlanStatus.ACTIVE),
                name="plan_one_active_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(maintenance_interval_weeks__gte=1, maintenance_interval_weeks__lte=52),
                name="plan_maintenance_interval_range",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True})
                    | Q(**{f"{name}__gte": 1, f"{name}__lte": 52}),
                    name=f"plan_{name}_range",
                )
                for name in ("odi_every_weeks", "rmdq_every_weeks", "psfs_every_weeks")
            ],
        ]
        triggers = [never_deleted("treatments_treatmentplan_is_never_deleted")]

    def __str__(self) -> str:
        return f"Plan for {self.patient} ({self.get_current_phase_display()})"


class PlanPhase(models.Model):
    """The planned sessions and frequency of one phase of a plan."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="phases")
    phase = models.CharField(max_length=20, choices=Phase.choices)
    planned_sessions = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    sessions_per_week = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("7"))],
        help_text="0.5 = fortnightly.",
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "started_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "phase"], name="plan_phase_once"),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(started_on__isnull=True)
                | Q(started_on__lte=F("ended_on")),
                name="plan_phase_dates_ordered",
            ),
        ]
        triggers = [never_deleted("treatments_planphase_is_never_deleted")]

    def __str__(self) -> str:
        return f"{self.get_phase_display()}: {self.planned_sessions} sessions"


class PostureFinding(models.TextChoices):
    ANTERIOR_PELVIC_TILT = "anterior_pelvic_tilt", "Anterior pelvic tilt"
    POSTERIOR_PELVIC_TILT = "posterior_pelvic_tilt", "Posterior pelvic tilt"
    HYPERLORDOSIS = "hyperlordosis", "Hyperlordosis"
    FLAT_BACK = "flat_back", "Flattened lumbar curve"
    HIPS_INTERNALLY_ROTATED = "hips_internally_rotated", "Hips internally rotated"
    HIPS_EXTERNALLY_ROTATED = "hips_externally_rotated", "Hips externally rotated"
    SHOULDER_HIGHER_LEFT = "shoulder_higher_left", "Left shoulder higher"
    SHOULDER_HIGHER_RIGHT = "shoulder_higher_right", "Right shoulder higher"
    TIGHT_HIP_FLEXORS = "tight_hip_flexors", "Tight hip flexors"
    TIGHT_QUADRICEPS = "tight_quadriceps", "Tight quadriceps"
    WEAK_GLUTES = "weak_glutes", "Weak gluteus maximus"
    WEAK_HAMSTRINGS = "weak_hamstrings", "Weak hamstrings"


class TreatedRegion(models.TextChoices):
    LOWER_BACK = "lower_back", "Lower back"
    HIPS = "hips", "Hips"
    BUTTOCK = "buttock", "Buttock"
    PIRIFORMIS = "piriformis", "Piriformis"
    GEMELLI = "gemelli", "Gemelli"
    OBTURATORS = "obturators", "Obturators"
    QUADRATUS_FEMORIS = "quadratus_femoris", "Quadratus femoris"
    HIP_FLEXORS = "hip_flexors", "Hip flexors"
    HAMSTRINGS = "hamstrings", "Hamstrings"
    ADDUCTORS = "adductors", "Adductors"


class TreatmentNote(models.Model):
    """The SOAP note of one session. Draft (its author edits it) → signed (locked for ever)."""

    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, related_name="treatment_note"
    )
    # The session's patient, kept on the note so that "the notes of these patients" is one
    # indexed column rather than a join through every appointment. The database sets it
    # from the appointment on every write (`note_patient_and_start_are_the_sessions`), so
    # it cannot disagree.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="+", editable=False
    )
    # The session's start, kept on the note as well (set by the same trigger), so that the
    # list of notes, latest session first, walks an index of the notes' own instead of the
    # diary's, where the sessions still to come (which carry no note) come first. A session
    # with a note is not moved (`appointments.services`).
    session_start = models.DateTimeField(editable=False)
    author = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="notes")
    # Subjective
    subjective = models.TextField(blank=True, help_text="What the patient reports.")
    pain_score = _score_field(null=True, blank=True)
    pain_locations = ChoiceArrayField(choices=SymptomLocation.choices, blank=True)
    # Objective
    posture_findings = ChoiceArrayField(choices=PostureFinding.choices, blank=True)
    regions_treated = ChoiceArrayField(choices=TreatedRegion.choices, blank=True)
    objective = models.TextField(blank=True, help_text="Findings and treatment, in words.")
    # Assessment and plan
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_score__isnull=True) | Q(pain_score__lte=10),
                name="note_pain_0_10",
            ),
        ]
        triggers = [
            # Signing is the one UPDATE a note may still take: it sets signed_at on a draft.
            Refuse(
                name=SIGNED_NOTE_IS_FINAL,
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
                message="treatment note % is signed: it is final; add an addendum instead",
                args="OLD.id",
            ),
            UnskippableTrigger(
                name="note_patient_and_start_are_the_sessions",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("appointment_id", "patient_id", "session_start"),
                func="""
                SELECT patient_id, start INTO NEW.patient_id, NEW.session_start
                FROM appointments_appointment WHERE id = NEW.appointment_id;
                RETURN NEW;
                """,
            ),
        ]
        indexes = [models.Index(fields=["session_start", "id"], name="note_session_start")]

    def __str__(self) -> str:
        return f"Note for {self.appointment}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


# Refused as part of the note, under the note's name.
_SIGNED_NOTES_LOG_REFUSED = refusal(
    "the exercise log of a signed note is final", name=SIGNED_NOTE_IS_FINAL
)


class ExerciseEntry(models.Model):
    """One exercise of an NMPT session's log."""

    note = models.ForeignKey(TreatmentNote, on_delete=models.CASCADE, related_name="exercises")
    position = models.PositiveSmallIntegerField(default=0)
    exercise = models.CharField(max_length=100, help_text="e.g. Back squat, Deadlift, Sprint.")
    sets = models.PositiveSmallIntegerField(validators=[MaxValueValidator(50)])
    reps = models.PositiveSmallIntegerField(validators=[MaxValueValidator(500)])
    load_kg = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    effort = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)], help_text="RPE, 1 to 10."
    )
    guarded = models.BooleanField(
        default=False, help_text="Held back or refused for fear of old pain."
    )
    comment = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["note", "position", "pk"]
        verbose_name_plural = "exercise log"
        constraints = [
            models.CheckConstraint(
                condition=Q(effort__gte=1, effort__lte=10), name="exercise_effort"
            ),
            models.CheckConstraint(
                condition=Q(load_kg__isnull=True) | Q(load_kg__gte=0), name="exercise_load"
            ),
        ]
        triggers = [
            # An entry added to, changed in, moved to or taken from a signed note's log.
            UnskippableTrigger(
                name=EXERCISE_LOG_OF_SIGNED_NOTE_IS_FINAL,
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("note_ids", "bigint[]")],
                func=f"""
                IF TG_OP = 'INSERT' THEN
                    note_ids := ARRAY[NEW.note_id];
                ELSIF TG_OP = 'UPDATE' THEN
                    note_ids := ARRAY[OLD.note_id, NEW.note_id];
                ELSE
                    note_ids := ARRAY[OLD.note_id];
                END IF;
                IF EXISTS (
                    SELECT 1 FROM treatments_treatmentnote
                    WHERE id = ANY(note_ids) AND signed_at IS NOT NULL
                ) THEN
                    {_SIGNED_NOTES_LOG_REFUSED}
                END IF;
                IF TG_OP = 'DELETE' THEN
                    RETURN OLD;
                END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} {self.sets}x{self.reps}"


class Addendum(models.Model):
    """A correction or addition to a signed note; the note itself is never changed."""

    note = models.ForeignKey(TreatmentNote, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="addenda")
    created_at = models.DateTimeField(auto_now_add=True)
    text = models.TextField()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "addenda"
        triggers = [
            Refuse(
                name=ADDENDUM_IS_FINAL,
                operation=pgtrigger.Update | pgtrigger.Delete,
                message="addenda are final: add another addendum instead",
            ),
        ]

    def __str__(self) -> str:
        # The clinic's date: an addendum written at 08:00 in Melbourne is one of that day,
        # not of the day before in UTC.
        return f"Addendum by {self.author} ({timezone.localtime(self.created_at):%Y-%m-%d})"


class MeasureKind(models.TextChoices):
    PAIN = "pain", "Pain score (0-10)"
    ODI = "odi", "Oswestry Disability Index"
    RMDQ = "rmdq", "Roland-Morris Disability Questionnaire (0-24)"
    PSFS = "psfs", "Patient-Specific Functional Scale (0-10)"


def _answers_only_of(kind: str) -> Q:
    """The rows of `kind` that hold its own answers and no other kind's: the one rule the
    database keeps, whatever writes the row."""
    own = {
        MeasureKind.PAIN: Q(),
        MeasureKind.ODI: Q(odi_answers__isnull=False, odi_answers__len=len(ODI_SECTIONS)),
        MeasureKind.RMDQ: Q(rmdq_answers__isnull=False, rmdq_answers__len=RMDQ_ITEMS),
        MeasureKind.PSFS: Q(
            psfs_activities__isnull=False,
            psfs_scores__isnull=False,
            psfs_scores__len__gte=PSFS_MIN_ACTIVITIES,
            psfs_scores__len__lte=PSFS_MAX_ACTIVITIES,
            psfs_activities__len=Func(
                F("psfs_scores"), function="cardinality", output_field=models.IntegerField()
            ),
        ),
    }[kind]
    others = {
        MeasureKind.ODI: Q(odi_answers__isnull=True),
        MeasureKind.RMDQ: Q(rmdq_answers__isnull=True),
        MeasureKind.PSFS: Q(psfs_activities__isnull=True, psfs_scores__isnull=True),
    }
    for other, empty in others.items():
        if other != kind:
            own &= empty
    return Q(kind=kind) & own


# Each kind's range of scores (its instrument's, `treatments.instruments`).
MEASURE_RANGES: dict[str, tuple[int, int]] = {
    MeasureKind.PAIN: (0, 10),
    MeasureKind.ODI: (0, 100),
    MeasureKind.RMDQ: (0, 24),
    MeasureKind.PSFS: (0, 10),
}


class OutcomeMeasure(models.Model):
    """One scored outcome measure at one point in time: a pain score, an ODI, a
    Roland-Morris or a Patient-Specific Functional Scale, kept with the answers it was
    scored from (`treatments.instruments`) and the version of the instrument."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(max_length=10, choices=MeasureKind.choices)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="outcomes"
    )
    value = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        help_text="The score, computed from the answers: pain 0-10, ODI %, RMDQ 0-24, "
        "PSFS mean 0-10.",
    )
    # Which edition of the questionnaire the answers are to ("" on rows written around the
    # services, e.g. the benchmarks'; the data migration that added it filled the rows of
    # pain and ODI already kept).
    instrument_version = models.CharField(max_length=40, default="", db_default="", blank=True)
    odi_answers = ArrayField(
        models.PositiveSmallIntegerField(null=True, validators=[MaxValueValidator(5)]),
        size=len(ODI_SECTIONS),
        null=True,
        blank=True,
        help_text="The ten ODI sections, 0-5 each, null where unanswered.",
    )
    rmdq_answers = ArrayField(
        models.BooleanField(null=True),
        size=RMDQ_ITEMS,
        null=True,
        blank=True,
        help_text="The 24 Roland-Morris statements, yes (true) or no, null where unanswered.",
    )
    psfs_activities = ArrayField(
        models.CharField(max_length=PSFS_ACTIVITY_LENGTH),
        size=PSFS_MAX_ACTIVITIES,
        null=True,
        blank=True,
        help_text="The activities the patient named, in order.",
    )
    psfs_scores = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)]),
        size=PSFS_MAX_ACTIVITIES,
        null=True,
        blank=True,
        help_text="How able they are to do each activity, 0 (unable) to 10.",
    )

    class Meta:
        ordering = ["patient", "recorded_at"]
        indexes = [
            models.Index(fields=["patient", "kind", "recorded_at"], name="outcome_series"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    *[
                        Q(kind=kind, value__gte=low, value__lte=high)
                        for kind, (low, high) in MEASURE_RANGES.items()
                    ],
                    _connector=Q.OR,
                ),
                name="outcome_value_range",
            ),
            models.CheckConstraint(
                condition=Q(*[_answers_only_of(kind) for kind in MeasureKind], _connector=Q.OR),
                name="outcome_answers_of_its_kind",
            ),
        ]
        triggers = [never_deleted("treatments_outcomemeasure_is_never_deleted")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} ({self.recorded_at:%Y-%m-%d})"


class Direction(models.TextChoices):
    LOWER_IS_BETTER = "lower", "Lower is better"
    HIGHER_IS_BETTER = "higher", "Higher is better"


class ImportantChange(models.Model):
    """How much an instrument's score must change from the patient's baseline to count as
    clinically important, and where that figure comes from: data, so that the clinic can
    change it (seeded by the migration `0010_important_change_thresholds`). A change counts
    when it reaches `points` or, where `percent` is given, that share of the baseline.
    `recovered_at_most` is the score at or below which a patient counts as recovered, for
    the lower-is-better instruments where the literature defines one."""

    kind = models.CharField(max_length=10, choices=MeasureKind.choices, unique=True)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    points = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text="A change of at least this many points counts.",
    )
    percent = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
        help_text="Or of at least this share of the baseline score; empty: points only.",
    )
    source = models.TextField(help_text="The publication the thresholds come from.")
    recovered_at_most = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Recovered at or below this score; empty where the instrument defines none.",
    )
    recovered_source = models.TextField(blank=True, default="", db_default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "clinically important change"
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="important_change_points"),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100),
                name="important_change_percent",
            ),
            models.CheckConstraint(
                condition=Q(recovered_at_most__isnull=True)
                | Q(direction=Direction.LOWER_IS_BETTER, recovered_at_most__gte=0),
                name="important_change_recovery_lower_is_better",
            ),
            models.CheckConstraint(condition=~Q(source=""), name="important_change_has_a_source"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.points} points"

    def clean(self) -> None:
        # The database refuses it too (`important_change_recovery_lower_is_better`); this
        # says so on the admin's form rather than failing the save.
        if self.recovered_at_most is not None and self.direction != Direction.LOWER_IS_BETTER:
            raise ValidationError(
                {"recovered_at_most": "Only for instruments where lower is better."}
            )


class Risk(models.TextChoices):
    LOW = "low", "Low risk"
    MEDIUM = "medium", "Medium risk"
    HIGH = "high", "High risk"


class Bothersomeness(models.TextChoices):
    NOT_AT_ALL = "not_at_all", "Not at all"
    SLIGHTLY = "slightly", "Slightly"
    MODERATELY = "moderately", "Moderately"
    VERY_MUCH = "very_much", "Very much"
    EXTREMELY = "extremely", "Extremely"


def _start_back_risk_is_its_scores() -> Q:
    """The risk that the totals give (`instruments.score_start_back`), kept by the database:
    total ≤ 3 low; otherwise psychosocial ≥ 4 high; otherwise medium."""
    return (
        Q(total__lte=3, risk=Risk.LOW)
        | Q(total__gte=4, psychosocial__gte=4, risk=Risk.HIGH)
        | Q(total__gte=4, psychosocial__lte=3, risk=Risk.MEDIUM)
    )


class RiskScreening(models.Model):
    """A STarT Back Screening Tool answered by a patient (Hill et al. 2008): at intake, or
    again when their measures worsen. Its own record rather than a kind of outcome measure:
    its result is a risk group with a subscale, not a score on a scale with an important
    change from a baseline. Kept with its answers and scored by the service
    (`treatments.instruments.score_start_back`); the database checks that the totals and
    the risk agree."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="screenings")
    intake = models.OneToOneField(
        Intake,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="screening",
        help_text="The intake it was answered with; empty for a re-screen.",
    )
    answered_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    instrument_version = models.CharField(max_length=40)
    agree = ArrayField(
        models.BooleanField(), size=8, help_text="Items 1 to 8: agree (true) or disagree."
    )
    bothersomeness = models.CharField(
        max_length=12, choices=Bothersomeness.choices, help_text="Item 9."
    )
    total = models.PositiveSmallIntegerField()
    psychosocial = models.PositiveSmallIntegerField(help_text="Items 5 to 9.")
    risk = models.CharField(max_length=6, choices=Risk.choices)

    class Meta:
        ordering = ["patient", "answered_at"]
        indexes = [
            models.Index(fields=["patient", "-answered_at"], name="screening_patient_latest")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(agree__len=8), name="screening_eight_items"),
            models.CheckConstraint(
                condition=Q(total__lte=9, psychosocial__lte=5) & Q(psychosocial__lte=F("total")),
                name="screening_totals_range",
            ),
            models.CheckConstraint(
                condition=_start_back_risk_is_its_scores(), name="screening_risk_is_its_scores"
            ),
        ]
        triggers = [never_deleted("treatments_riskscreening_is_never_deleted")]

    def __str__(self) -> str:
        return f"STarT Back: {self.get_risk_display()} ({self.answered_at:%Y-%m-%d})"


# The plan's field that says how often each questionnaire is due (`TreatmentPlan`).
SCHEDULED_MEASURES: dict[str, str] = {
    MeasureKind.ODI: "odi_every_weeks",
    MeasureKind.RMDQ: "rmdq_every_weeks",
    MeasureKind.PSFS: "psfs_every_weeks",
}


# --- the home programme: the clinic's exercise library, prescribed exercises, logs --------


class ExerciseCategory(models.TextChoices):
    MOBILITY = "mobility", "Mobility"
    STABILITY = "stability", "Stability and motor control"
    STRENGTH = "strength", "Strength"
    NERVE_GLIDE = "nerve_glide", "Nerve glide"
    STRETCH = "stretch", "Stretch"


class BodyRegion(models.TextChoices):
    LOWER_BACK = "lower_back", "Lower back"
    CORE = "core", "Trunk and core"
    HIPS = "hips", "Hips"
    GLUTES = "glutes", "Glutes"
    HAMSTRINGS = "hamstrings", "Hamstrings"
    LEGS = "legs", "Legs"
    WHOLE_BODY = "whole_body", "Whole body"


def _load_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("500"))],
        **kwargs,
    )


class Exercise(models.Model):
    """An exercise of the clinic's library, which practitioners prescribe for home
    (`HomeExercise`). Retired by taking it off the active list: one that a programme names
    is never deleted (PROTECT), and no role holds the permission to."""

    name = models.CharField(max_length=100, unique=True)
    instructions = models.TextField(help_text="How to do it, in the patient's words.")
    category = models.CharField(max_length=20, choices=ExerciseCategory.choices)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    default_sets = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    default_reps = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="Repetitions, or seconds for a hold.",
    )
    default_load_kg = _load_field(help_text="Empty: body weight.")
    active = models.BooleanField(default=True, help_text="Offered for new prescriptions.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_sets__gte=1, default_sets__lte=20)
                & Q(default_reps__gte=1, default_reps__lte=200),
                name="exercise_defaults_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


HOME_EXERCISE_IS_AS_PRESCRIBED = "home_exercise_is_as_prescribed"
# What a prescription says: kept as prescribed; a change is a new version (`services`).
PRESCRIPTION_FIELDS = (
    "plan",
    "exercise",
    "sets",
    "reps",
    "load_kg",
    "times_per_week",
    "notes",
    "started_on",
    "prescribed_by",
)


class HomeExercise(models.Model):
    """One exercise of a plan's home programme, as prescribed: from `started_on` until the
    day before `stopped_on` (empty: still on). A prescription is kept as it was written; a
    change of sets, reps, load or frequency stops it and starts a new version the same day
    (`services.revise_home_exercise`), so the programme's history — and each week's
    adherence against the frequency of its time — stays readable."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="home_exercises")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="+")
    sets = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    reps = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="Repetitions, or seconds for a hold.",
    )
    load_kg = _load_field(help_text="Empty: body weight.")
    times_per_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text="On how many days a week.",
    )
    notes = models.CharField(max_length=500, blank=True)
    started_on = models.DateField()
    stopped_on = models.DateField(
        null=True, blank=True, help_text="The first day it is no longer part of the programme."
    )
    prescribed_by = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    prescribed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "started_on", "pk"]
        verbose_name = "home exercise"
        constraints = [
            models.CheckConstraint(
                condition=Q(sets__gte=1, sets__lte=20)
                & Q(reps__gte=1, reps__lte=200)
                & Q(times_per_week__gte=1, times_per_week__lte=7),
                name="home_exercise_dose_range",
            ),
            models.CheckConstraint(
                condition=Q(load_kg__isnull=True) | Q(load_kg__gte=0), name="home_exercise_load"
            ),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(started_on__lte=F("stopped_on")),
                name="home_exercise_dates_ordered",
            ),
            # An exercise is in a plan's programme once at a time: a change is a new version.
            models.UniqueConstraint(
                fields=["plan", "exercise"],
                condition=Q(stopped_on__isnull=True),
                name="home_exercise_once_in_a_programme",
            ),
        ]
        indexes = [models.Index(fields=["plan", "stopped_on"], name="home_exercise_current")]
        triggers = [
            never_deleted("treatments_homeexercise_is_never_deleted"),
            # The one change a prescription takes: stopping it, once.
            Refuse(
                name=HOME_EXERCISE_IS_AS_PRESCRIBED,
                operation=pgtrigger.Update,
                condition=reduce(
                    operator.or_,
                    (
                        pgtrigger.Q(**{f"old__{name}__df": pgtrigger.F(f"new__{name}")})
                        for name in (*PRESCRIPTION_FIELDS, "prescribed_at")
                    ),
                    pgtrigger.Q(old__stopped_on__isnull=False),
                ),
                message="a home exercise is kept as prescribed: stop it and prescribe anew",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} {self.sets}x{self.reps}, {self.times_per_week}/week"


class HomeExerciseLog(models.Model):
    """What the patient did of one exercise of their programme on one day. One per exercise
    per day (the database's `home_exercise_logged_once_a_day`); the patient may correct it
    for a few days (`services.LOG_EDITABLE_DAYS`)."""

    home_exercise = models.ForeignKey(HomeExercise, on_delete=models.PROTECT, related_name="logs")
    # The programme's patient and exercise, kept on the log so that "once a day" is one
    # unique key across the prescription's versions; the database sets them from the
    # prescription on every write (`home_exercise_log_is_the_prescriptions`).
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", editable=False)
    exercise = models.ForeignKey(
        Exercise, on_delete=models.PROTECT, related_name="+", editable=False
    )
    done_on = models.DateField()
    sets_done = models.PositiveSmallIntegerField(validators=[MaxValueValidator(50)])
    reps_done = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(500)], help_text="Per set; or seconds for a hold."
    )
    pain = _score_field(null=True, blank=True, help_text="Pain during it, 0 to 10.")
    note = models.CharField(max_length=500, blank=True)
    logged_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["patient", "done_on", "pk"]
        verbose_name = "home exercise log"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "exercise", "done_on"], name="home_exercise_logged_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(pain__isnull=True) | Q(pain__lte=10), name="home_exercise_log_pain"
            ),
            models.CheckConstraint(
                condition=Q(sets_done__lte=50, reps_done__lte=500),
                name="home_exercise_log_range",
            ),
        ]
        triggers = [
            never_deleted("treatments_homeexerciselog_is_never_deleted"),
            UnskippableTrigger(
                name="home_exercise_log_is_the_prescriptions",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("home_exercise_id", "patient_id", "exercise_id"),
                func="""
                SELECT plan.patient_id, prescribed.exercise_id
                INTO NEW.patient_id, NEW.exercise_id
                FROM treatments_homeexercise prescribed
                JOIN treatments_treatmentplan plan ON plan.id = prescribed.plan_id
                WHERE prescribed.id = NEW.home_exercise_id;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} on {self.done_on}: {self.sets_done}x{self.reps_done}"
