"""Which answer each kind of outcome measure is recorded from, how it is scored and which
service records it: the one table that the admin's form and the API ask.

A pain score is recorded from `value` (0 to 10, the score itself); an Oswestry Disability
Index from `odi_answers` (its ten sections, 0 to 5 each, None where unanswered), whose
percentage the server computes (`odi_percent`); a Roland-Morris from `rmdq_answers` (24
statements, yes or no, None where unanswered); a Patient-Specific Functional Scale from
`psfs` (3 to 5 activities, each `{"activity", "score"}`). Scores are computed by
`treatments.instruments`, never typed in. Each kind takes its own answer and never another
kind's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User
from patients.models import Patient

from .instruments import PsfsActivity, odi_percent, score_psfs, score_rmdq
from .models import MeasureKind, OutcomeMeasure
from .services import record_odi, record_pain, record_psfs, record_rmdq


@dataclass(frozen=True)
class MeasureRule:
    answer: str  # the name of the one answer it is recorded from
    missing: str  # said when that answer is not given
    misplaced: str  # said when it is given for another kind
    score: Callable[[Any], Decimal]  # as the service scores it; ValueError if it cannot
    record: Callable[..., OutcomeMeasure]  # the service: (answer, patient=, by=, recorded_at=)


def _record_pain(answer: int, **common) -> OutcomeMeasure:
    return record_pain(score=answer, **common)


def _record_odi(answer: list[int | None], **common) -> OutcomeMeasure:
    return record_odi(answers=answer, **common)


def _record_rmdq(answer: list[bool | None], **common) -> OutcomeMeasure:
    return record_rmdq(answers=answer, **common)


def psfs_activities(answer: list[Mapping[str, Any]]) -> list[PsfsActivity]:
    """The PSFS answer as the form and the API give it (`{"activity", "score"}` each)."""
    return [PsfsActivity(activity=item["activity"], score=item["score"]) for item in answer]


def _score_psfs(answer: list[Mapping[str, Any]]) -> Decimal:
    return score_psfs(psfs_activities(answer))


def _record_psfs(answer: list[Mapping[str, Any]], **common) -> OutcomeMeasure:
    return record_psfs(activities=psfs_activities(answer), **common)


MEASURE_RULES: dict[str, MeasureRule] = {
    MeasureKind.PAIN: MeasureRule(
        answer="value",
        missing="Required for a pain score.",
        misplaced="Only for a pain score: the ODI percentage is computed from its answers.",
        score=Decimal,
        record=_record_pain,
    ),
    MeasureKind.ODI: MeasureRule(
        answer="odi_answers",
        missing="Required for the ODI.",
        misplaced="Only for the ODI.",
        score=odi_percent,
        record=_record_odi,
    ),
    MeasureKind.RMDQ: MeasureRule(
        answer="rmdq_answers",
        missing="Required for the Roland-Morris questionnaire.",
        misplaced="Only for the Roland-Morris questionnaire.",
        score=score_rmdq,
        record=_record_rmdq,
    ),
    MeasureKind.PSFS: MeasureRule(
        answer="psfs",
        missing="Required for the Patient-Specific Functional Scale.",
        misplaced="Only for the Patient-Specific Functional Scale.",
        score=_score_psfs,
        record=_record_psfs,
    ),
}


def answer_problems(kind: str, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """What keeps `answers` (by answer name; left out or None when not given) from making a
    measure of `kind`, by answer: another kind's answer given, or its own missing. Empty
    when they fit."""
    rule = MEASURE_RULES[kind]
    for other in MEASURE_RULES.values():
        if other is not rule and answers.get(other.answer) is not None:
            return {other.answer: [other.misplaced]}
    if answers.get(rule.answer) is None:
        return {rule.answer: [rule.missing]}
    return {}


def scoring_problem(kind: str, answers: Mapping[str, Any]) -> str | None:
    """Why the service would refuse to score these answers (e.g. an ODI with too few
    sections answered), for a form that shows it before anything is recorded."""
    rule = MEASURE_RULES[kind]
    try:
        rule.score(answers[rule.answer])
    except ValueError as error:
        return str(error)
    return None


def record_measure(
    *,
    kind: str,
    answers: Mapping[str, Any],
    patient: Patient,
    by: User | None,
    recorded_at: datetime | None = None,
) -> OutcomeMeasure:
    """Record a measure of `kind` from its answer (one `answer_problems` finds nothing wrong
    with), through the service that scores it."""
    rule = MEASURE_RULES[kind]
    return rule.record(answers[rule.answer], patient=patient, by=by, recorded_at=recorded_at)
