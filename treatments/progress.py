"""A patient's progress: their outcome measures over time (pain, ODI, Roland-Morris, PSFS),
each with its clinically important change from the patient's baseline, the band of no
important change around each baseline, the phases their plans went through, and how well
they keep their home programme week by week (`selectors.adherence_of`). Built here
once for every face that shows it: the chart on the patient's admin page
(`treatments.charts.chart_of`) and the API's `/patients/{id}/progress/`.

It reads only what `user` may read (`treatments.selectors`), in six queries whatever the
patient's history: the scores, the thresholds, the plans, their phases, the home programme
and its logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from patients.models import Patient

from .change import Band, Change, Scored, band_of, changes_of, thresholds
from .models import MEASURE_RANGES, MeasureKind, TreatmentPlan
from .selectors import WeekAdherence, adherence_of, home_exercises_for, outcomes_for, plans_for


@dataclass(frozen=True)
class Score:
    """A score of one measure, when it was recorded (clinic time), and how it compares with
    the patient's baseline (None where not classified)."""

    at: datetime
    value: Decimal
    change: Change | None = None


@dataclass(frozen=True)
class PhaseSpan:
    """A phase of a plan, from the day it started to the day it ended (None: still on)."""

    phase: str
    started_on: date
    ended_on: date | None = None


@dataclass(frozen=True)
class Progress:
    pain: list[Score]  # oldest first
    odi: list[Score]  # oldest first
    phases: list[PhaseSpan]  # in the order they started; phases never started are left out
    plans: list[TreatmentPlan]  # newest first, phases prefetched
    rmdq: list[Score] = field(default_factory=list)  # oldest first
    psfs: list[Score] = field(default_factory=list)  # oldest first
    # The band of no important change around each kind's baseline (None for a kind without
    # a baseline or a threshold).
    bands: dict[str, Band | None] = field(default_factory=dict)
    # The home programme's adherence, week by week, oldest first (empty without one).
    adherence: list[WeekAdherence] = field(default_factory=list)


def progress_of(user: User, patient: Patient) -> Progress:
    """The progress of a patient whose clinical records `user` may read (an empty one for
    anyone else: the selectors give them nothing)."""
    series: dict[str, list[Score]] = {kind: [] for kind in MeasureKind}
    measures = [
        (Scored(pk, patient.pk, kind, value), recorded_at)
        for pk, kind, recorded_at, value in outcomes_for(user)
        .filter(patient=patient)
        .order_by("recorded_at", "pk")
        .values_list("pk", "kind", "recorded_at", "value")
    ]
    by_kind = thresholds()
    changes = changes_of((scored for scored, _ in measures), by_kind)
    for scored, recorded_at in measures:
        series[scored.kind].append(
            Score(timezone.localtime(recorded_at), scored.value, changes[scored.pk])
        )
    bands: dict[str, Band | None] = {}
    for kind, scores in series.items():
        low, high = MEASURE_RANGES[kind]
        bands[kind] = (
            band_of(scores[0].value, by_kind.get(kind), low=Decimal(low), high=Decimal(high))
            if scores
            else None
        )
    plans = list(plans_for(user).filter(patient=patient).order_by("-created_at", "-pk"))
    started = sorted(
        (phase for plan in plans for phase in plan.phases.all() if phase.started_on is not None),
        key=lambda phase: (phase.started_on, phase.ended_on or date.max, phase.pk),
    )
    return Progress(
        pain=series[MeasureKind.PAIN],
        odi=series[MeasureKind.ODI],
        rmdq=series[MeasureKind.RMDQ],
        psfs=series[MeasureKind.PSFS],
        phases=[PhaseSpan(p.phase, p.started_on, p.ended_on) for p in started],
        plans=plans,
        bands=bands,
        adherence=adherence_of(
            home_exercises_for(user).filter(plan__patient=patient), timezone.localdate()
        ),
    )
