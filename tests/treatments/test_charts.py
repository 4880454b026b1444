"""The progress chart as a function: well-formed, escaped SVG with one marker per score and
one band per phase, whatever the history's length."""

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from treatments.charts import LEFT, RIGHT, outcomes_chart, progress_chart
from treatments.models import MeasureKind
from treatments.outcomes_report import Row, Tally, Withheld
from treatments.progress import PhaseSpan

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2027, 3, 22)


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def with_class(chart, name) -> list:
    return [e for e in chart.iter() if name in (e.get("class") or "").split()]


def test_nothing_to_draw_is_no_chart():
    assert progress_chart(pain=[], odi=[], phases=[], today=TODAY) == ""


@pytest.mark.parametrize("days", [0, 3, 20, 100, 400])
def test_one_marker_per_score_inside_the_plot_for_any_span(days):
    start = TODAY - timedelta(days=days)
    pain = [(start + timedelta(days=d), 7 - d % 7) for d in range(0, days + 1, max(1, days // 9))]
    odi = [(start, 48.5), (TODAY, 12)]

    chart = parse(
        progress_chart(pain=pain, odi=odi, phases=[PhaseSpan("assess", start)], today=TODAY)
    )

    assert chart.tag == f"{SVG}svg"
    points = with_class(chart, "pain-point")
    assert len(points) == len(pain)
    assert len(with_class(chart, "odi-point")) == 2
    assert all(LEFT <= float(p.get("cx")) <= RIGHT for p in points)
    ticks = [t for t in chart.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert ticks, "the time axis is labelled"


def test_phases_are_bands_in_order_an_open_one_runs_to_today():
    phases = [
        PhaseSpan("release", TODAY - timedelta(days=40), TODAY - timedelta(days=10)),
        PhaseSpan("assess", TODAY - timedelta(days=50), TODAY - timedelta(days=40)),
        PhaseSpan("strengthen", TODAY - timedelta(days=10)),
    ]

    chart = parse(progress_chart(pain=[], odi=[], phases=phases, today=TODAY))

    bands = with_class(chart, "phase")
    assert [b.get("class") for b in bands] == [
        "phase phase-assess",
        "phase phase-release",
        "phase phase-strengthen",
    ]
    last = bands[-1]
    assert float(last.get("x")) + float(last.get("width")) > RIGHT - 20
    assert bands[-1].findtext(f"{SVG}title").endswith("to now")


def test_text_is_escaped():
    chart = progress_chart(
        pain=[(TODAY, 3)], odi=[], phases=[], today=TODAY, title='<script>alert("x")</script> & co'
    )

    assert "<script>" not in chart
    assert parse(chart).findtext(f"{SVG}title") == '<script>alert("x")</script> & co'


def test_values_are_placed_on_their_scales():
    chart = parse(progress_chart(pain=[(TODAY, 10)], odi=[(TODAY, 100)], phases=[], today=TODAY))

    (pain,) = with_class(chart, "pain-point")
    (odi,) = with_class(chart, "odi-point")
    # Pain 10 and ODI 100 % are both the top of the plot.
    assert float(pain.get("cy")) == pytest.approx(float(odi.get("y")) + 4)


# --- the clinic outcomes report's chart ----------------------------------------------------


def report_row(label, improved, not_improved, withheld=None) -> Row:
    tallies = {
        (kind, weeks): Tally(improved, not_improved, 1, 0)
        for kind in (MeasureKind.ODI, MeasureKind.PAIN)
        for weeks in (6, 12)
    }
    return Row(key=label, label=label, patients=9, withheld=withheld, tallies=tallies)


def test_the_outcomes_chart_has_a_bar_per_measure_and_time_point_each_with_its_n():
    chart = parse(
        outcomes_chart(
            [report_row("All patients", 3, 1), report_row("<Mia & Co>", 0, 0)], title="Outcomes"
        )
    )

    bars = with_class(chart, "bar")
    assert len(bars) == 8
    titles = [bar.find(f"{SVG}title").text for bar in bars]
    assert "All patients: ODI by 12 weeks, 75% (3 of 4)" in titles
    assert "<Mia & Co>: Pain by 6 weeks, nobody measured" in titles  # escaped, and no share


def test_a_withheld_group_is_named_without_a_bar():
    row = report_row("Small", 1, 1, withheld=Withheld.FEWER_THAN_MIN)
    row.tallies = {}

    chart = parse(outcomes_chart([row], title="Outcomes"))

    assert with_class(chart, "bar") == []
    assert "withheld (small group)" in ElementTree.tostring(chart, encoding="unicode")


def test_no_groups_no_outcomes_chart():
    assert outcomes_chart([], title="Outcomes") == ""
