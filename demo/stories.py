"""The demo patients' courses of care, read from the visits the diary booked: how bad each
patient's pain was and how fast it settles, what they do, whether they reported red flags,
and on which visit each phase of the pathway began.

Deterministic: each patient's choices come from a `random.Random` seeded with the demo seed
and their email, so they do not depend on the order or on what another patient drew.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from appointments.models import Appointment, Status
from patients.models import Patient
from treatments.models import Phase

from . import data

# Which phase of the pathway each kind of visit belongs to; a consultation with the
# sciatica specialist is part of the assessment.
PHASE_OF_SERVICE = {
    data.ASSESSMENT: Phase.ASSESS,
    data.SCIATICA_CONSULT: Phase.ASSESS,
    data.SMM_45: Phase.RELEASE,
    data.SMM_60: Phase.RELEASE,
    data.NMPT_SESSION: Phase.STRENGTHEN,
    data.MAINTENANCE: Phase.MAINTAIN,
}
PHASE_INDEX = {phase: index for index, phase in enumerate(Phase)}

# One patient in so many responds slowly (`_responds_slowly`).
SLOW_RESPONDER_EVERY = 6

ACTIVITIES = (
    "sedentary",
    "sedentary",
    "new_runner",
    "returning_runner",
    "seasoned_runner",
    "other_sport",
)


@dataclass
class Visit:
    appointment: Appointment
    key: str  # the service's key in `data.SERVICES`
    day: date  # local

    @property
    def completed(self) -> bool:
        return self.appointment.status == Status.COMPLETED


@dataclass
class Story:
    """One patient's course: how bad it was, how fast it settles, what they do."""

    patient: Patient
    rng: random.Random
    visits: list[Visit]
    sciatica: bool
    side: str
    pain_start: float
    pain_end: float
    odi_start: float
    odi_end: float
    days_to_settle: float
    activity: str
    skips_sex_life: bool
    red_flags: list[str] = field(default_factory=list)
    red_flags_cleared: bool = False
    # The visit on which each phase began (the assess phase: the first visit).
    phase_visits: dict[str, Visit] = field(default_factory=dict)

    @property
    def first_day(self) -> date:
        return self.visits[0].day

    @property
    def phase_starts(self) -> dict[str, date]:
        return {phase: visit.day for phase, visit in self.phase_visits.items()}

    @property
    def current_phase(self) -> str:
        return max(self.phase_visits, key=PHASE_INDEX.__getitem__)

    def pain_on(self, day: date) -> float:
        settled = math.exp(-(day - self.first_day).days / self.days_to_settle)
        return self.pain_end + (self.pain_start - self.pain_end) * settled

    def odi_on(self, day: date) -> float:
        settled = math.exp(-(day - self.first_day).days / (self.days_to_settle * 1.2))
        return self.odi_end + (self.odi_start - self.odi_end) * settled


def stories_of(patients: list[Patient], *, seed: int, now: datetime) -> list[Story]:
    """The stories of those patients whose visits before `now` follow a demo pathway."""
    key_of = {spec.name: spec.key for spec in data.SERVICES}
    zone = ZoneInfo(data.MELBOURNE)
    visits: dict[int, list[Visit]] = defaultdict(list)
    appointments = (
        Appointment.objects.filter(patient__in=patients, start__lt=now)
        .select_related("service", "practitioner__user", "location")
        .order_by("start", "pk")
    )
    for appointment in appointments:
        key = key_of.get(appointment.service.name)
        if key is not None:
            day = appointment.start.astimezone(zone).date()
            visits[appointment.patient_id].append(Visit(appointment, key, day))
    stories = []
    for patient in patients:
        theirs = visits.get(patient.pk)
        if not theirs or theirs[0].key != data.ASSESSMENT:
            continue  # not a demo pathway: leave them alone
        rng = random.Random(f"{seed}:{patient.email}")
        sciatica = any(v.key == data.SCIATICA_CONSULT for v in theirs)
        story = Story(
            patient=patient,
            rng=rng,
            visits=theirs,
            sciatica=sciatica,
            side=rng.choice(("left", "right")),
            pain_start=rng.uniform(6, 8.5) if sciatica else rng.uniform(4.5, 7.5),
            pain_end=rng.uniform(0, 2),
            odi_start=rng.uniform(38, 62) if sciatica else rng.uniform(24, 50),
            odi_end=rng.uniform(4, 12),
            days_to_settle=rng.uniform(28, 55),
            activity=rng.choice(ACTIVITIES),
            skips_sex_life=rng.random() < 0.2,
        )
        story.phase_visits = _phase_visits(theirs)
        if len(stories) % SLOW_RESPONDER_EVERY == SLOW_RESPONDER_EVERY - 2:
            _responds_slowly(story)
        stories.append(story)
    _choose_red_flags(stories)
    return stories


def _responds_slowly(story: Story) -> None:
    """Not everyone gets better: a slow responder's pain settles about a point and their
    ODI about six points below where they began, near the threshold of an important change
    (2 points, 10 points or 30 %), so that the manager's outcomes report shows some who did
    not improve by 6 or 12 weeks. From the story's own figures, drawing no random number:
    every other patient's story stays as it was."""
    story.pain_end = max(0.0, story.pain_start - 1.2)
    story.odi_end = max(0.0, story.odi_start - 6)


def _phase_visits(visits: list[Visit]) -> dict[str, Visit]:
    """The visit each phase began on: the first attended visit of a later phase moves the
    plan on (a myotherapy session during strength training does not move it back)."""
    starts = {Phase.ASSESS: visits[0]}
    current = Phase.ASSESS
    for visit in visits:
        phase = PHASE_OF_SERVICE[visit.key]
        if visit.completed and PHASE_INDEX[phase] > PHASE_INDEX[current]:
            starts[phase] = visit
            current = phase
    return starts


def _choose_red_flags(stories: list[Story]) -> None:
    """Some patients answered yes to red-flag questions: most sciatica patients with severe
    leg symptoms saw their GP and were cleared before hands-on treatment; the newest patient
    is still waiting for their GP (open)."""
    newest = max(stories, key=lambda story: (story.first_day, story.patient.pk))
    newest.red_flags = ["severe_leg_pain", "leg_weakness_episodes"]
    cleared = [s for s in stories if s.sciatica and s is not newest][:4]
    for story, flags in zip(
        cleared,
        (
            ["severe_leg_pain"],
            ["leg_weakness_episodes"],
            ["severe_leg_pain", "leg_weakness_episodes"],
            ["unexplained_weight_loss"],
        ),
        strict=False,
    ):
        story.red_flags, story.red_flags_cleared = flags, True
    others = [s for s in stories if not s.sciatica and s is not newest and len(s.visits) > 3]
    if others:
        others[0].red_flags, others[0].red_flags_cleared = ["recent_trauma"], True
