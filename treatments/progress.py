"""A patient's progress: their pain scores and ODI percentages over time, and the phases
their plans went through. Built here once for every face that shows it: the chart on the
patient's admin page (`treatments.charts.chart_of`) and the API's
`/patients/{id}/progress/`.

It reads only what `user` may read (`treatments.selectors`), in three queries whatever the
patient's history: the scores, the plans, their phases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from patients.models import Patient

from .models import MeasureKind, TreatmentPlan
from .selectors import outcomes_for, plans_for


@dataclass(frozen=True)
class Score:
    """A pain score (0-10) or an ODI percentage, when it was recorded (clinic time)."""

    at: datetime
    value: Decimal


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


def progress_of(user: User, patient: Patient) -> Progress:
    """The progress of a patient whose clinical records `user` may read (an empty one for
    anyone else: the selectors give them nothing)."""
    series: dict[str, list[Score]] = {MeasureKind.PAIN: [], MeasureKind.ODI: []}
    measures = (
        outcomes_for(user)
        .filter(patient=patient)
        .order_by("recorded_at", "pk")
        .values_list("kind", "recorded_at", "value")
    )
    for kind, recorded_at, value in measures:
        series[kind].append(Score(timezone.localtime(recorded_at), value))
    plans = list(plans_for(user).filter(patient=patient).order_by("-created_at", "-pk"))
    started = sorted(
        (phase for plan in plans for phase in plan.phases.all() if phase.started_on is not None),
        key=lambda phase: (phase.started_on, phase.ended_on or date.max, phase.pk),
    )
    return Progress(
        pain=series[MeasureKind.PAIN],
        odi=series[MeasureKind.ODI],
        phases=[PhaseSpan(p.phase, p.started_on, p.ended_on) for p in started],
        plans=plans,
    )
