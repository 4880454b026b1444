"""The validated instruments the clinic scores, each from its answers (never from a typed
total), with its version and its rule for unanswered items: plain functions, no database.

- Pain, NRS-11: one whole number 0-10, the score itself; nothing to be missing.
- Oswestry Disability Index 2.1a: ten sections 0-5; the percentage of the answered
  sections' maximum; up to two sections may be skipped (Fairbank & Pynsent 2000).
- Roland-Morris (RMDQ-24): 24 statements yes/no; the number of yes, 0-24; up to two
  skipped are prorated to 24, more and it is not scored (see `RMDQ_MAX_MISSING`).
- Patient-Specific Functional Scale: the patient's own 3-5 activities, each named and
  rated 0-10; the mean; every named activity must be rated.
- STarT Back Screening Tool: eight agree/disagree items and a five-point bothersomeness
  item; total 0-9, psychosocial subscale 0-5, risk low/medium/high; all nine are needed
  (Hill et al. 2008 give no proration).

Each scoring function raises `ScoringError` (a `ValueError`) in words a form can show when
the answers cannot be scored; the services turn it into a `DomainError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


class ScoringError(ValueError):
    """The answers cannot be scored by the instrument's rules."""


def _one_decimal(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# --- pain: numeric rating scale ------------------------------------------------------------

PAIN_VERSION = "NRS-11"


def score_pain(answer: int) -> Decimal:
    """Pain on the 11-point numeric rating scale: 0 (no pain) to 10 (worst imaginable)."""
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer <= 10:
        raise ScoringError("Pain scores run from 0 to 10, whole numbers.")
    return Decimal(answer)


# --- Oswestry Disability Index --------------------------------------------------------------

ODI_VERSION = "ODI 2.1a"
ODI_SECTIONS = [
    "pain_intensity",
    "personal_care",
    "lifting",
    "walking",
    "sitting",
    "standing",
    "sleeping",
    "sex_life",
    "social_life",
    "travelling",
]
# Fewer answered sections than this and the ODI is not scored: Fairbank & Pynsent (Spine
# 2000;25:2940-52) divide by five times the sections answered when one is skipped (often
# sex life); the clinic tolerates two, as it always has.
ODI_MIN_ANSWERED = 8


def odi_percent(answers: Sequence[int | None]) -> Decimal:
    """The Oswestry Disability Index as a percentage, one decimal.

    Each of the ten sections scores 0-5; unanswered sections (None) leave the total out of
    five times the sections answered, so skipping one does not lower the score.
    """
    if len(answers) != len(ODI_SECTIONS):
        raise ScoringError(f"The ODI has {len(ODI_SECTIONS)} sections.")
    answered = [score for score in answers if score is not None]
    if any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= 5 for s in answered):
        raise ScoringError("Each ODI section scores 0 to 5.")
    if len(answered) < ODI_MIN_ANSWERED:
        raise ScoringError(f"Answer at least {ODI_MIN_ANSWERED} of the ten sections.")
    return _one_decimal(Decimal(sum(answered) * 100) / Decimal(5 * len(answered)))


score_odi = odi_percent


# --- Roland-Morris Disability Questionnaire ----------------------------------------------

RMDQ_VERSION = "RMDQ-24"
RMDQ_ITEMS = 24
# The RMDQ is printed as "tick the statements that describe you today", so an untouched
# statement cannot be told from a "no". The clinic asks each statement yes/no instead, so
# that a skipped one is known: up to two skipped, the score is prorated to 24 items (the
# yes answers times 24 over the items answered); more, it is not scored. The clinic's
# rule, the one Fairbank & Pynsent give for the ODI's skipped sections, applied to the RMDQ
# (Roland & Fairbank, Spine 2000;25:3115-24 give no rule of their own).
RMDQ_MAX_MISSING = 2


def score_rmdq(answers: Sequence[bool | None]) -> Decimal:
    """The Roland-Morris score 0-24 (one decimal when prorated): the statements answered
    yes, out of 24."""
    if len(answers) != RMDQ_ITEMS:
        raise ScoringError(f"The Roland-Morris questionnaire has {RMDQ_ITEMS} statements.")
    if any(answer is not None and not isinstance(answer, bool) for answer in answers):
        raise ScoringError("Each Roland-Morris statement is answered yes (true) or no (false).")
    answered = [answer for answer in answers if answer is not None]
    if RMDQ_ITEMS - len(answered) > RMDQ_MAX_MISSING:
        raise ScoringError(
            f"Answer at least {RMDQ_ITEMS - RMDQ_MAX_MISSING} of the {RMDQ_ITEMS} statements."
        )
    yes = sum(1 for answer in answered if answer)
    return _one_decimal(Decimal(yes * RMDQ_ITEMS) / Decimal(len(answered)))


# --- Patient-Specific Functional Scale -----------------------------------------------------

PSFS_VERSION = "PSFS (Stratford 1995)"
PSFS_MIN_ACTIVITIES, PSFS_MAX_ACTIVITIES = 3, 5
PSFS_ACTIVITY_LENGTH = 100


@dataclass(frozen=True)
class PsfsActivity:
    """An activity the patient named and how able they are to do it: 0 (unable) to 10
    (as before the problem)."""

    activity: str
    score: int


def score_psfs(activities: Sequence[PsfsActivity]) -> Decimal:
    """The PSFS score: the mean of the patient's 3-5 activities' ratings, one decimal
    (Stratford et al., Physiotherapy Canada 1995;47:258-63). Higher is better. Every named
    activity is rated: the scale has no rule for a skipped one."""
    if not PSFS_MIN_ACTIVITIES <= len(activities) <= PSFS_MAX_ACTIVITIES:
        raise ScoringError(
            f"Name {PSFS_MIN_ACTIVITIES} to {PSFS_MAX_ACTIVITIES} activities and rate each."
        )
    for item in activities:
        if not item.activity.strip():
            raise ScoringError("Name each activity.")
        if len(item.activity) > PSFS_ACTIVITY_LENGTH:
            raise ScoringError(f"Name each activity in {PSFS_ACTIVITY_LENGTH} characters.")
        if isinstance(item.score, bool) or not isinstance(item.score, int):
            raise ScoringError("Rate each activity 0 to 10.")
        if not 0 <= item.score <= 10:
            raise ScoringError("Rate each activity 0 to 10.")
    names = [item.activity.strip().casefold() for item in activities]
    if len(set(names)) != len(names):
        raise ScoringError("Name each activity once.")
    return _one_decimal(Decimal(sum(item.score for item in activities)) / len(activities))


# --- STarT Back Screening Tool ---------------------------------------------------------------

START_BACK_VERSION = "STarT Back 9-item (Hill 2008)"
START_BACK_ITEMS = 9
BOTHERSOMENESS = ["not_at_all", "slightly", "moderately", "very_much", "extremely"]
# Item 9 counts 1 when the pain was very much or extremely bothersome (Hill et al. 2008).
BOTHERSOME = {"very_much", "extremely"}
PSYCHOSOCIAL_ITEMS = range(4, 9)  # items 5 to 9 (zero-based 4 to 8)


@dataclass(frozen=True)
class StartBackResult:
    total: int  # 0-9
    psychosocial: int  # 0-5, items 5 to 9
    risk: str  # "low", "medium" or "high"


def score_start_back(agree: Sequence[bool], bothersomeness: str) -> StartBackResult:
    """The STarT Back Screening Tool (Hill et al., Arthritis Rheum 2008;59:632-41): items
    1-8 agree (1) or disagree (0), item 9 bothersomeness on five points of which "very
    much" and "extremely" count 1. Total ≤ 3: low risk; otherwise psychosocial subscale
    (items 5-9) ≥ 4: high; otherwise medium. All nine items are needed."""
    if len(agree) != START_BACK_ITEMS - 1 or any(not isinstance(a, bool) for a in agree):
        raise ScoringError("Answer each of the first eight statements agree or disagree.")
    if bothersomeness not in BOTHERSOMENESS:
        raise ScoringError("Say how bothersome the pain was: " + ", ".join(BOTHERSOMENESS) + ".")
    items = [int(a) for a in agree] + [int(bothersomeness in BOTHERSOME)]
    total = sum(items)
    psychosocial = sum(items[i] for i in PSYCHOSOCIAL_ITEMS)
    if total <= 3:
        risk = "low"
    elif psychosocial >= 4:
        risk = "high"
    else:
        risk = "medium"
    return StartBackResult(total=total, psychosocial=psychosocial, risk=risk)
