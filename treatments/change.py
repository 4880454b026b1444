"""Clinically important change: whether a measurement differs from the patient's baseline
(their first measurement of that kind) by enough to matter, by the thresholds the clinic
keeps as data (`models.ImportantChange`, seeded with Ostelo 2008 and Abbott & Schmitt 2014).
The one rule: the API's answers, the progress series, the chart's band and the re-screen
all ask `classify` (through `changes_of` or `band_of`).

- **Improved**: better than the baseline by at least the threshold's points, or by at
  least its percent of the baseline (where the threshold has one, and the baseline is not
  0, of which no percentage can be taken).
- **Worse**: worse than the baseline by at least the threshold's points. Only the points:
  the published percentages are thresholds of improvement, and a percentage of a low
  baseline (pain 2 → 3 is 50 %) would call noise a deterioration.
- **No important change** otherwise. The baseline itself is `baseline`; a kind without a
  threshold is `unclassified`.
- **Recovered** (where the threshold defines it: pain 0, RMDQ ≤ 2, Kamper 2010): the score
  is at or below `recovered_at_most`, whatever the baseline; None where undefined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .models import Direction, ImportantChange

BASELINE = "baseline"
IMPROVED = "improved"
NO_IMPORTANT_CHANGE = "no_important_change"
WORSE = "worse"
UNCLASSIFIED = "unclassified"
VERDICTS = [BASELINE, IMPROVED, NO_IMPORTANT_CHANGE, WORSE, UNCLASSIFIED]
VERDICT_LABELS = {
    BASELINE: "baseline",
    IMPROVED: "important improvement",
    NO_IMPORTANT_CHANGE: "no important change",
    WORSE: "important worsening",
    UNCLASSIFIED: "no threshold set",
}


@dataclass(frozen=True)
class Threshold:
    """One instrument's row of `ImportantChange`, as the rule reads it."""

    points: Decimal
    percent: Decimal | None
    higher_is_better: bool
    recovered_at_most: Decimal | None = None

    @classmethod
    def of(cls, row: ImportantChange) -> Threshold:
        return cls(
            points=row.points,
            percent=row.percent,
            higher_is_better=row.direction == Direction.HIGHER_IS_BETTER,
            recovered_at_most=row.recovered_at_most,
        )


@dataclass(frozen=True)
class Change:
    baseline: Decimal  # the patient's first score of this kind
    improvement: Decimal  # points better than the baseline (negative: worse)
    percent: Decimal | None  # the improvement as a share of the baseline; None from 0
    verdict: str  # one of VERDICTS
    recovered: bool | None  # None: the instrument defines no recovery

    @property
    def label(self) -> str:
        """In words, for pages: "important improvement (recovered)"."""
        return VERDICT_LABELS[self.verdict] + (" (recovered)" if self.recovered else "")


def thresholds() -> dict[str, Threshold]:
    """The clinic's thresholds by kind of measure (one query)."""
    return {row.kind: Threshold.of(row) for row in ImportantChange.objects.all()}


def classify(
    value: Decimal, baseline: Decimal, threshold: Threshold | None, *, is_baseline: bool
) -> Change:
    """How `value` compares with the patient's `baseline` by `threshold`."""
    higher_is_better = threshold is not None and threshold.higher_is_better
    improvement = value - baseline if higher_is_better else baseline - value
    percent = (
        (improvement * 100 / baseline).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if baseline
        else None
    )
    if threshold is None:
        return Change(baseline, improvement, percent, UNCLASSIFIED, None)
    recovered = (
        None if threshold.recovered_at_most is None else value <= threshold.recovered_at_most
    )
    if is_baseline:
        verdict = BASELINE
    elif improvement >= threshold.points or (
        # Exact, not the rounded percent: 29.96 % is not 30 %.
        threshold.percent is not None
        and baseline > 0
        and improvement * 100 >= threshold.percent * baseline
    ):
        verdict = IMPROVED
    elif -improvement >= threshold.points:
        verdict = WORSE
    else:
        verdict = NO_IMPORTANT_CHANGE
    return Change(baseline, improvement, percent, verdict, recovered)


@dataclass(frozen=True)
class Scored:
    """What `changes_of` needs of a measurement (an `OutcomeMeasure` will do)."""

    pk: int
    patient_id: int
    kind: str
    value: Decimal


def changes_of(
    series: Iterable[Scored], by_kind: Mapping[str, Threshold] | None = None
) -> dict[int, Change]:
    """The change of each measurement of `series` (by id), oldest first within each
    patient's kind: the first of each is the baseline. Give the patient's whole series of
    a kind (`selectors.baselines_for` gives baselines to a page of it instead)."""
    by_kind = thresholds() if by_kind is None else by_kind
    baselines: dict[tuple[int, str], Decimal] = {}
    changes = {}
    for measure in series:
        key = (measure.patient_id, measure.kind)
        is_baseline = key not in baselines
        baseline = baselines.setdefault(key, measure.value)
        changes[measure.pk] = classify(
            measure.value, baseline, by_kind.get(measure.kind), is_baseline=is_baseline
        )
    return changes


def change_of(measure: Any) -> Change | None:
    """The change of one measure read through `selectors.with_baselines`, which gives it
    its baseline and its kind's threshold (None for a measure read otherwise)."""
    baseline = getattr(measure, "baseline_value", None)
    if baseline is None:
        return None
    threshold = None
    if measure.threshold_points is not None:
        threshold = Threshold(
            points=measure.threshold_points,
            percent=measure.threshold_percent,
            higher_is_better=measure.threshold_direction == Direction.HIGHER_IS_BETTER,
            recovered_at_most=measure.threshold_recovered_at_most,
        )
    return classify(
        measure.value, baseline, threshold, is_baseline=measure.pk == measure.baseline_id
    )


@dataclass(frozen=True)
class Band:
    """The scores that are no important change from a baseline: between `improved_at`
    (the nearest score that counts as improved) and `worse_at` (the nearest that counts as
    worse), in the instrument's own units, clipped to its range."""

    baseline: Decimal
    improved_at: Decimal
    worse_at: Decimal


def band_of(
    baseline: Decimal, threshold: Threshold | None, *, low: Decimal, high: Decimal
) -> Band | None:
    """The band of no important change around `baseline` (`classify`'s rule: improvement by
    points or percent, whichever is nearer; worsening by points)."""
    if threshold is None:
        return None
    step = threshold.points
    if threshold.percent is not None and baseline:
        step = min(step, baseline * threshold.percent / 100)
    if threshold.higher_is_better:
        improved_at, worse_at = baseline + step, baseline - threshold.points
    else:
        improved_at, worse_at = baseline - step, baseline + threshold.points
    return Band(
        baseline=baseline,
        improved_at=min(max(improved_at, low), high),
        worse_at=min(max(worse_at, low), high),
    )
