"""The clinic outcomes report (`treatments.outcomes_report`) on a cohort counted by hand
(`outcomes_cohort.COURSES`), as of the frozen now (Monday 22 March 2027).

Worked out from the table (ODI improves by 10 points or 30 %, pain by 2 points or 30 %):

| patient | by | ODI 6 wk | ODI 12 wk | sessions | pain 6 wk | pain 12 wk | sessions |
|---|---|---|---|---|---|---|---|
| P1 | mia | not improved | improved (day 56) | 8 | improved (day 14) | improved | 3 |
| P2 | mia | improved (day 28) | improved | 5 | not improved | not improved | |
| P3 | mia | not measured | not measured | | not improved | improved (day 50) | 4 |
| P4 | mia | not measured | not measured | | not measured | not measured | |
| P5 | mia | improved (day 14) | improved | 3 | improved (day 14) | improved | 3 |
| P6 | max | not improved | improved (day 70) | 10 | not measured | not measured | |
| P7 | max | improved (day 42) | improved | 7 | not improved | not improved | |
| P8 | max | not improved | not improved | | not measured | improved (day 84) | 3 |
| P9 | cal | improved (day 28) | improved | 4 | improved (day 28) | improved | 4 |
| P10 | cal | not measured | not measured | | not measured | not measured | |
| P11 | mia | not improved | too early | | improved (day 7) | too early | |
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kernel.errors import DomainError
from tests.factories import AppointmentFactory
from tests.fixtures.clinic import NOW, at
from tests.treatments.outcomes_cohort import (
    COURSES,
    PERIOD,
    Course,
    build_cohort,
)
from treatments.models import MeasureKind, Phase, PlanPhase, TreatmentPlan
from treatments.outcomes_report import GroupBy, Tally, Withheld, outcomes_report

ODI, PAIN = MeasureKind.ODI, MeasureKind.PAIN


@pytest.fixture(autouse=True)
def _now(frozen_now):
    pass


def report(by=GroupBy.PRACTITIONER, period=PERIOD):
    return outcomes_report(start=period[0], end=period[1], by=by, now=NOW)


def tally(improved, not_improved, not_measured, too_early=0) -> Tally:
    return Tally(improved, not_improved, not_measured, too_early)


class TestTheWholeCohort:
    def test_only_those_whose_first_completed_session_is_in_the_period_are_counted(
        self, outcomes_cohort
    ):
        assert report().overall.patients == 11

    def test_each_measure_at_each_time_point_is_improved_not_improved_not_measured_or_early(
        self, outcomes_cohort
    ):
        overall = report().overall

        assert overall.tallies == {
            (ODI, 6): tally(4, 4, 3),
            (ODI, 12): tally(6, 1, 3, too_early=1),
            (PAIN, 6): tally(4, 3, 4),
            (PAIN, 12): tally(5, 2, 3, too_early=1),
        }

    def test_the_share_is_of_those_measured_never_of_those_not_measured(self, outcomes_cohort):
        overall = report().overall

        assert overall.tallies[ODI, 12].measured == 7
        assert overall.tallies[ODI, 12].share == pytest.approx(6 / 7)

    def test_the_median_sessions_to_improve_is_of_those_improved_by_12_weeks(self, outcomes_cohort):
        overall = report().overall

        assert overall.sessions[ODI].sessions == [3, 4, 5, 7, 8, 10]
        assert (overall.sessions[ODI].median, overall.sessions[ODI].n) == (6.0, 6)
        assert (overall.sessions[PAIN].median, overall.sessions[PAIN].n) == (3.0, 5)

    def test_a_period_without_starters_is_an_empty_report(self, outcomes_cohort):
        empty = report(period=(date(2025, 1, 1), date(2025, 1, 31)))

        assert empty.overall.patients == 0
        assert empty.groups == []
        assert empty.overall.withheld == Withheld.FEWER_THAN_MIN


class TestSmallGroupsAreWithheld:
    def test_a_group_below_the_minimum_shows_no_figure(self, outcomes_cohort, settings):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 3

        cal = next(row for row in report().groups if row.label == "Cal Coach")

        assert cal.withheld == Withheld.FEWER_THAN_MIN
        assert cal.tallies == {} and cal.sessions == {}
        assert cal.patients_shown is None

    def test_the_smallest_other_group_is_withheld_too_so_subtraction_reveals_nothing(
        self, outcomes_cohort, settings
    ):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 3

        rows = {row.label: row for row in report().groups}

        # Cal's 2 alone could be worked out from the overall less Mia's and Max's: Max's 3
        # are withheld with them.
        assert rows["Max Myo"].withheld == Withheld.COMPLEMENTARY
        assert rows["Max Myo"].patients_shown is None
        assert rows["Mia Myo"].withheld is None

    def test_a_shown_group_has_its_own_counts(self, outcomes_cohort, settings):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 3

        mia = next(row for row in report().groups if row.label == "Mia Myo")

        assert mia.patients_shown == 6
        assert mia.tallies == {
            (ODI, 6): tally(2, 2, 2),
            (ODI, 12): tally(3, 0, 2, too_early=1),
            (PAIN, 6): tally(3, 2, 1),
            (PAIN, 12): tally(3, 1, 1, too_early=1),
        }
        assert (mia.sessions[ODI].median, mia.sessions[ODI].n) == (5.0, 3)
        assert (mia.sessions[PAIN].median, mia.sessions[PAIN].n) == (3.0, 3)

    def test_two_small_groups_that_together_reach_the_minimum_need_no_third(
        self, outcomes_cohort, settings
    ):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 4  # Max's 3 and Cal's 2 are both small: 5 together

        rows = {row.label: row.withheld for row in report().groups}

        assert rows == {
            "Cal Coach": Withheld.FEWER_THAN_MIN,
            "Max Myo": Withheld.FEWER_THAN_MIN,
            "Mia Myo": None,
        }

    def test_the_default_minimum_is_five(self, outcomes_cohort):
        rows = {row.label: row.withheld for row in report().groups}

        assert report().min_count == 5
        assert rows["Mia Myo"] is None
        assert rows["Max Myo"] == Withheld.FEWER_THAN_MIN

    def test_a_cohort_below_the_minimum_shows_nothing_at_all(self, outcomes_cohort, settings):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 12

        result = report()

        assert result.overall.withheld == Withheld.FEWER_THAN_MIN
        assert all(row.withheld for row in result.groups)


class TestGroups:
    def test_service_and_practitioner_are_those_of_most_sessions_a_tie_to_the_first_seen(
        self, practitioners, assessment, myotherapy, nmpt, location, settings
    ):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 1
        course = Course("Q", "mia", date(2026, 9, 1), 1, [(0, 40)])
        patient = build_cohort(practitioners, assessment, location, courses=[course])["Q"]
        # Then two of myotherapy with Max and two NMPT with Cal: a tie, myotherapy first.
        for day, service, who in [
            (2, myotherapy, "max"),
            (3, nmpt, "cal"),
            (9, myotherapy, "max"),
            (10, nmpt, "cal"),
        ]:
            AppointmentFactory(
                patient=patient,
                practitioner=practitioners[who],
                service=service,
                location=location,
                start=at(date(2026, 9, 1) + timedelta(days=day), 12),
            )

        assert [row.label for row in report(GroupBy.SERVICE).groups] == ["Myotherapy 45"]
        assert [row.label for row in report(GroupBy.PRACTITIONER).groups] == ["Max Myo"]

    def test_the_phase_is_the_furthest_started_within_12_weeks(
        self, practitioners, myotherapy, location, settings
    ):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 1
        courses = [
            Course("R", "mia", date(2026, 9, 1), 3, [(0, 40)]),
            Course("S", "mia", date(2026, 9, 2), 3, [(0, 40)]),
        ]
        patients = build_cohort(practitioners, myotherapy, location, courses=courses)
        plan = TreatmentPlan.objects.create(
            patient=patients["R"], practitioner=practitioners["mia"], goals="Run again"
        )
        for phase, started_on in [
            (Phase.RELEASE, date(2026, 9, 10)),
            # Strengthening began after the first 12 weeks: R's care was release.
            (Phase.STRENGTHEN, date(2026, 12, 1)),
        ]:
            PlanPhase.objects.create(
                plan=plan,
                phase=phase,
                planned_sessions=4,
                sessions_per_week=1,
                started_on=started_on,
            )

        rows = {row.key: row.patients for row in report(GroupBy.PHASE).groups}

        assert rows == {Phase.ASSESS: 1, Phase.RELEASE: 1}


class TestInput:
    def test_a_period_that_ends_before_it_begins_is_refused(self, db):
        with pytest.raises(DomainError) as refusal:
            report(period=(date(2026, 12, 31), date(2026, 9, 1)))

        assert refusal.value.code == "invalid" and "to" in refusal.value.fields

    def test_an_unknown_grouping_is_refused(self, db):
        with pytest.raises(DomainError) as refusal:
            report(by="postcode")

        assert "by" in refusal.value.fields


@pytest.mark.parametrize("by", list(GroupBy))
def test_the_report_reads_a_fixed_number_of_queries_whatever_the_cohort(
    by, practitioners, myotherapy, location
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report(by)
        return len(captured)

    build_cohort(practitioners, myotherapy, location, courses=COURSES[:2])
    few = queries()
    build_cohort(
        practitioners,
        myotherapy,
        location,
        courses=[
            Course(f"{c.name}b", c.practitioner, c.first_day, c.sessions, c.odi, c.pain)
            for c in COURSES[2:10]
        ],
    )
    many = queries()

    assert few == many <= 5
