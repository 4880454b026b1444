"""Clinically important change from the baseline (`treatments.change`): the thresholds'
edges, the direction of each instrument, recovery, and the band the chart draws."""

from decimal import Decimal

import pytest

from treatments.change import (
    BASELINE,
    IMPROVED,
    NO_IMPORTANT_CHANGE,
    UNCLASSIFIED,
    WORSE,
    Scored,
    Threshold,
    band_of,
    changes_of,
    classify,
)

D = Decimal
# As seeded (treatments 0010): Ostelo et al. 2008, Abbott & Schmitt 2014, Kamper et al. 2010.
ODI = Threshold(points=D(10), percent=D(30), higher_is_better=False)
PAIN = Threshold(points=D(2), percent=D(30), higher_is_better=False, recovered_at_most=D(0))
RMDQ = Threshold(points=D(5), percent=D(30), higher_is_better=False, recovered_at_most=D(2))
PSFS = Threshold(points=D(2), percent=None, higher_is_better=True)


def verdict(value, baseline, threshold) -> str:
    return classify(D(value), D(baseline), threshold, is_baseline=False).verdict


class TestTheThresholdsEdges:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("30", IMPROVED),  # 10 points from 40 exactly (25 %)
            ("30.1", NO_IMPORTANT_CHANGE),  # 9.9 points, 24.75 %
            ("50", WORSE),  # 10 points worse exactly
            ("49.9", NO_IMPORTANT_CHANGE),
        ],
    )
    def test_odi_by_ten_points(self, value, expected):
        assert verdict(value, "40", ODI) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("14", IMPROVED), ("14.1", NO_IMPORTANT_CHANGE)],  # 6 of 20 is 30 % exactly
    )
    def test_odi_by_thirty_percent_of_the_baseline(self, value, expected):
        assert verdict(value, "20", ODI) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("6", IMPROVED), ("7", NO_IMPORTANT_CHANGE), ("10", WORSE), ("9", NO_IMPORTANT_CHANGE)],
    )
    def test_pain_by_two_points(self, value, expected):
        assert verdict(value, "8", PAIN) == expected  # 30 % of 8 is 2.4: the points decide

    def test_pain_by_thirty_percent_of_a_low_baseline(self):
        assert verdict("2", "3", PAIN) == IMPROVED  # 1 point, 33 %

    def test_worsening_counts_points_only(self):
        # 2 → 3 is 50 % worse, yet one point: noise on a low baseline, not a deterioration.
        assert verdict("3", "2", PAIN) == NO_IMPORTANT_CHANGE
        assert verdict("4", "2", PAIN) == WORSE

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("11", IMPROVED), ("12", NO_IMPORTANT_CHANGE), ("21", WORSE), ("20", NO_IMPORTANT_CHANGE)],
    )
    def test_rmdq_by_five_points(self, value, expected):
        assert verdict(value, "16", RMDQ) == expected  # 30 % of 16 is 4.8: nearer than 5

    def test_rmdq_by_thirty_percent(self):
        assert verdict("11.2", "16", RMDQ) == IMPROVED  # 4.8 points is 30 % exactly
        assert verdict("11.3", "16", RMDQ) == NO_IMPORTANT_CHANGE

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("5", IMPROVED), ("4.9", NO_IMPORTANT_CHANGE), ("1", WORSE), ("1.1", NO_IMPORTANT_CHANGE)],
    )
    def test_psfs_higher_is_better_by_two_points(self, value, expected):
        assert verdict(value, "3", PSFS) == expected

    def test_no_percentage_of_a_zero_baseline(self):
        change = classify(D(0), D(0), PAIN, is_baseline=False)
        assert (change.percent, change.verdict) == (None, NO_IMPORTANT_CHANGE)


class TestRecovery:
    @pytest.mark.parametrize(
        ("threshold", "value", "recovered"),
        [
            (PAIN, "0", True),
            (PAIN, "1", False),
            (RMDQ, "2", True),
            (RMDQ, "2.1", False),
            (ODI, "0", None),  # the ODI defines no recovery
            (PSFS, "10", None),
        ],
    )
    def test_recovered_where_the_instrument_defines_it(self, threshold, value, recovered):
        assert classify(D(value), D(8), threshold, is_baseline=False).recovered is recovered


class TestASeries:
    def test_the_first_of_each_patients_kind_is_the_baseline(self):
        series = [
            Scored(1, 10, "pain", D(8)),
            Scored(2, 10, "odi", D(40)),
            Scored(3, 11, "pain", D(3)),
            Scored(4, 10, "pain", D(5)),
            Scored(5, 10, "mood", D(5)),
        ]

        changes = changes_of(series, {"pain": PAIN, "odi": ODI})

        assert {pk: c.verdict for pk, c in changes.items()} == {
            1: BASELINE,
            2: BASELINE,
            3: BASELINE,
            4: IMPROVED,
            5: UNCLASSIFIED,
        }
        assert changes[4].baseline == D(8) and changes[4].improvement == D(3)


class TestTheBand:
    def test_the_nearer_of_points_and_percent_clipped_to_the_range(self):
        band = band_of(D(20), ODI, low=D(0), high=D(100))
        assert (band.improved_at, band.worse_at) == (D(14), D(30))
        band = band_of(D(95), ODI, low=D(0), high=D(100))
        assert (band.improved_at, band.worse_at) == (D(85), D(100))

    def test_higher_is_better_turns_the_band_over(self):
        band = band_of(D(3), PSFS, low=D(0), high=D(10))
        assert (band.improved_at, band.worse_at) == (D(5), D(1))

    def test_no_threshold_no_band(self):
        assert band_of(D(3), None, low=D(0), high=D(10)) is None
