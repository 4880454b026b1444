"""Each instrument scored from its answers, against the published worked examples and
scoring rules (cited per test), with its rule for unanswered items. Plain functions: no
database."""

from decimal import Decimal

import pytest

from treatments.instruments import (
    RMDQ_ITEMS,
    PsfsActivity,
    ScoringError,
    odi_percent,
    score_pain,
    score_psfs,
    score_rmdq,
    score_start_back,
)


class TestPain:
    @pytest.mark.parametrize("answer", [0, 7, 10])
    def test_the_score_is_the_answer(self, answer):
        assert score_pain(answer) == Decimal(answer)

    @pytest.mark.parametrize("answer", [-1, 11, 5.5, True, None, "7"])
    def test_outside_the_eleven_points_is_not_scored(self, answer):
        with pytest.raises(ScoringError):
            score_pain(answer)


class TestOswestry:
    """Fairbank JCT, Pynsent PB. The Oswestry Disability Index. Spine 2000;25:2940-52, the
    scoring instructions' example: 16 points of 50 is 32 %; with one section missed, 16 of
    45 is 35.5 % (printed truncated; one decimal rounded half up: 35.6)."""

    def test_the_published_example_all_sections_answered(self):
        assert odi_percent([2, 2, 2, 2, 2, 2, 1, 1, 1, 1]) == Decimal("32.0")

    def test_the_published_example_one_section_missed(self):
        assert odi_percent([2, 2, 2, 2, 2, 2, 1, 1, 2, None]) == Decimal("35.6")

    def test_two_sections_missed_is_still_scored_three_is_not(self):
        assert odi_percent([5] * 8 + [None] * 2) == Decimal("100.0")
        with pytest.raises(ScoringError, match="at least 8"):
            odi_percent([5] * 7 + [None] * 3)

    @pytest.mark.parametrize("answers", [[6] + [0] * 9, [-1] + [0] * 9, [0] * 9, [True] * 10])
    def test_malformed_answers_are_not_scored(self, answers):
        with pytest.raises(ScoringError):
            odi_percent(answers)


def rmdq(yes: int, missing: int = 0) -> list[bool | None]:
    return [True] * yes + [None] * missing + [False] * (RMDQ_ITEMS - yes - missing)


class TestRolandMorris:
    """Roland M, Morris R. A study of the natural history of back pain. Spine 1983;8:141-4:
    the score is the number of statements that apply, 0 (no disability) to 24. Missing
    statements: the clinic's rule, documented in `treatments.instruments` (up to two
    prorated to 24, more not scored)."""

    @pytest.mark.parametrize(("yes", "score"), [(0, "0"), (7, "7"), (24, "24")])
    def test_the_score_is_the_number_of_yes(self, yes, score):
        assert score_rmdq(rmdq(yes)) == Decimal(score)

    def test_one_unanswered_is_prorated_to_24(self):
        # 5 yes of 23 answered: 5 x 24 / 23 = 5.217...
        assert score_rmdq(rmdq(5, missing=1)) == Decimal("5.2")

    def test_two_unanswered_are_prorated_to_24(self):
        # 11 yes of 22 answered: 11 x 24 / 22 = 12
        assert score_rmdq(rmdq(11, missing=2)) == Decimal("12.0")

    def test_three_unanswered_are_not_scored(self):
        with pytest.raises(ScoringError, match="at least 22"):
            score_rmdq(rmdq(11, missing=3))

    @pytest.mark.parametrize("answers", [[True] * 23, [True] * 25, [1] * 24, ["yes"] * 24])
    def test_malformed_answers_are_not_scored(self, answers):
        with pytest.raises(ScoringError):
            score_rmdq(answers)


def psfs(*scores: int) -> list[PsfsActivity]:
    return [PsfsActivity(f"Activity {n}", score) for n, score in enumerate(scores, 1)]


class TestPatientSpecificFunctionalScale:
    """Stratford P, Gill C, Westaway M, Binkley J. Assessing disability and change on
    individual patients: a report of a patient specific measure. Physiother Can
    1995;47:258-63: the score is the mean of the activities' ratings, 0-10."""

    def test_the_mean_of_three_activities(self):
        # e.g. bending to put on shoes 3, sitting 30 minutes 5, running 7
        assert score_psfs(psfs(3, 5, 7)) == Decimal("5.0")

    def test_the_mean_is_rounded_to_one_decimal(self):
        assert score_psfs(psfs(2, 4, 5)) == Decimal("3.7")  # 11 / 3
        assert score_psfs(psfs(0, 0, 0, 1, 10)) == Decimal("2.2")

    @pytest.mark.parametrize(
        "activities",
        [
            psfs(5, 5),  # fewer than three
            psfs(5, 5, 5, 5, 5, 5),  # more than five
            psfs(5, 5, 11),
            psfs(5, 5, -1),
            [PsfsActivity("Sitting", 5), PsfsActivity("Walking", 5), PsfsActivity(" ", 5)],
            [PsfsActivity("Sitting", 5), PsfsActivity("sitting", 4), PsfsActivity("Run", 5)],
            [PsfsActivity("Sitting", 5), PsfsActivity("Walking", None), PsfsActivity("Run", 5)],
        ],
    )
    def test_what_is_not_scored(self, activities):
        with pytest.raises(ScoringError):
            score_psfs(activities)


def start_back(agree_items: set[int], bothersomeness: str = "moderately"):
    """Items 1-8 agreed (by number); item 9 as given."""
    return score_start_back([n in agree_items for n in range(1, 9)], bothersomeness)


class TestStartBack:
    """Hill JC, Dunn KM, Lewis M, et al. A primary care back pain screening tool: identifying
    patient subgroups for initial treatment. Arthritis Rheum 2008;59:632-41 (and Keele
    University's scoring guide): items 1-8 agree 1; item 9 "very much" or "extremely" 1;
    total ≤ 3 low; otherwise psychosocial (items 5-9) ≥ 4 high; otherwise medium."""

    def test_total_three_is_low_whatever_the_subscale(self):
        result = start_back({5, 6, 7})
        assert (result.total, result.psychosocial, result.risk) == (3, 3, "low")

    def test_total_four_with_psychosocial_three_is_medium(self):
        result = start_back({1, 5, 6, 7})
        assert (result.total, result.psychosocial, result.risk) == (4, 3, "medium")

    def test_total_four_with_psychosocial_four_is_high(self):
        result = start_back({5, 6, 7, 8})
        assert (result.total, result.psychosocial, result.risk) == (4, 4, "high")

    @pytest.mark.parametrize(
        ("bothersomeness", "counts"),
        [
            ("not_at_all", 0),
            ("slightly", 0),
            ("moderately", 0),
            ("very_much", 1),
            ("extremely", 1),
        ],
    )
    def test_item_nine_counts_when_very_much_or_extremely(self, bothersomeness, counts):
        result = start_back({5, 6, 7}, bothersomeness)
        assert (result.total, result.psychosocial) == (3 + counts, 3 + counts)
        assert result.risk == ("high" if counts else "low")

    def test_all_nine_answered_yes_is_high(self):
        result = start_back(set(range(1, 9)), "extremely")
        assert (result.total, result.psychosocial, result.risk) == (9, 5, "high")

    def test_physical_items_alone_are_medium(self):
        result = start_back({1, 2, 3, 4}, "extremely")
        assert (result.total, result.psychosocial, result.risk) == (5, 1, "medium")

    @pytest.mark.parametrize(
        ("agree", "bothersomeness"),
        [([True] * 7, "slightly"), ([True] * 9, "slightly"), ([None] * 8, "slightly")],
    )
    def test_every_item_is_needed(self, agree, bothersomeness):
        with pytest.raises(ScoringError):
            score_start_back(agree, bothersomeness)

    def test_bothersomeness_is_one_of_the_five(self):
        with pytest.raises(ScoringError):
            score_start_back([False] * 8, "a lot")
