"""A patient's progress as a small chart: inline SVG, rendered on the server, no JavaScript.

Pain (0-10, left axis) and the Oswestry Disability Index (0-100 %, right axis) over time,
with the phases of the patient's plans (assess, release, strengthen, maintain) shaded as
bands behind them, and for each series the band of no clinically important change around
the patient's baseline (`treatments.change.band_of`): a score outside it is an important
improvement (below) or worsening (above). The markup is built with ElementTree, so it is
well-formed XML and every text and attribute is escaped whatever the data hold; each point
carries a <title> that browsers show as a tooltip and screen readers read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .change import Band
from .models import MeasureKind, Phase
from .outcomes_report import MEASURE_NAMES, Row
from .outcomes_report import MEASURES as REPORT_MEASURES
from .outcomes_report import WEEKS as REPORT_WEEKS
from .progress import PhaseSpan, Progress

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 46, WIDTH - 54, 40, HEIGHT - 34  # the plot area

PAIN_COLOUR = "#b42318"
ODI_COLOUR = "#1d4f91"
# Shades of the pathway's phases, lightest first, readable under both lines.
PHASE_FILL = {
    Phase.ASSESS: "#eceff3",
    Phase.RELEASE: "#e3eefc",
    Phase.STRENGTHEN: "#e2f4e6",
    Phase.MAINTAIN: "#fdf3d9",
}
PHASE_SHORT = {
    Phase.ASSESS: "Assess",
    Phase.RELEASE: "Release",
    Phase.STRENGTHEN: "Strengthen",
    Phase.MAINTAIN: "Maintain",
}


@dataclass(frozen=True)
class Point:
    day: date
    value: float


def chart_of(progress: Progress, *, today: date, title: str) -> SafeString:
    """The chart of a patient's progress (`treatments.progress.progress_of`), each score on
    the clinic's day it was recorded."""
    return progress_chart(
        pain=[(timezone.localdate(score.at), score.value) for score in progress.pain],
        odi=[(timezone.localdate(score.at), score.value) for score in progress.odi],
        phases=progress.phases,
        today=today,
        title=title,
        change_bands=progress.bands,
    )


def progress_chart(
    *,
    pain: Sequence[tuple[date, float | Decimal]],
    odi: Sequence[tuple[date, float | Decimal]],
    phases: Sequence[PhaseSpan],
    today: date,
    title: str = "Progress",
    change_bands: Mapping[str, Band | None] | None = None,
) -> SafeString:
    """The chart as SVG markup, safe to put in a template as it is; empty when there is
    nothing to draw (no scores and no started phase)."""
    pain_points = sorted((Point(day, float(value)) for day, value in pain), key=_day)
    odi_points = sorted((Point(day, float(value)) for day, value in odi), key=_day)
    bands = sorted(phases, key=lambda band: band.started_on)
    if not pain_points and not odi_points and not bands:
        return mark_safe("")

    first, last = _domain(pain_points, odi_points, bands, today)
    span = (last - first).days

    def x(day: date) -> float:
        return round(LEFT + (RIGHT - LEFT) * (day - first).days / span, 1)

    def y(fraction: float) -> float:  # 0 at the bottom of the plot, 1 at its top
        return round(BOTTOM - (BOTTOM - TOP) * fraction, 1)

    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "width": str(WIDTH),
            "height": str(HEIGHT),
            "role": "img",
            "aria-labelledby": "progress-chart-title progress-chart-desc",
            "class": "progress-chart",
            "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "font-size": "11",
        },
    )
    _text_element(svg, "title", title, id="progress-chart-title")
    _text_element(
        svg, "desc", _description(pain_points, odi_points, bands), id="progress-chart-desc"
    )

    # Phase bands, behind everything else.
    phase_group = ET.SubElement(svg, "g", {"class": "phases"})
    for band in bands:
        start = max(band.started_on, first)
        end = min(band.ended_on or last, last)
        left, right = x(start), max(x(end), x(start) + 2)
        rect = ET.SubElement(
            phase_group,
            "rect",
            {
                "class": f"phase phase-{band.phase}",
                "x": str(left),
                "y": str(TOP),
                "width": str(round(right - left, 1)),
                "height": str(BOTTOM - TOP),
                "fill": PHASE_FILL.get(band.phase, "#eeeeee"),
            },
        )
        until = f"{band.ended_on:%d %b %Y}" if band.ended_on else "now"
        label = PHASE_SHORT.get(band.phase, band.phase)
        _text_element(rect, "title", f"{label}: {band.started_on:%d %b %Y} to {until}")
        ET.SubElement(
            phase_group,
            "line",
            {"x1": str(left), "x2": str(left), "y1": str(TOP), "y2": str(BOTTOM)},
            stroke="#9aa4b2",
            **{"stroke-width": "1", "stroke-dasharray": "2 3"},
        )
        # The label, shortened to its initial when the band is too narrow to hold it.
        if right - left < 7 * len(label) + 6:
            label = label[0]
        if right - left >= 10:
            _text_element(
                phase_group,
                "text",
                label,
                x=str(round(left + 4, 1)),
                y=str(TOP + 13),
                fill="#4b5563",
                **{"font-weight": "600", "class": "phase-label"},
            )

    # The bands of no important change around each baseline, over the phases.
    change_bands = change_bands or {}
    band_group = ET.SubElement(svg, "g", {"class": "change-bands"})
    for kind, colour, full_scale, unit, has_points in (
        (MeasureKind.PAIN, PAIN_COLOUR, 10, "/10", bool(pain_points)),
        (MeasureKind.ODI, ODI_COLOUR, 100, "%", bool(odi_points)),
    ):
        if (band := change_bands.get(kind)) is None or not has_points:
            continue
        edges = sorted([float(band.improved_at), float(band.worse_at)])
        top, bottom = y(edges[1] / full_scale), y(edges[0] / full_scale)
        rect = ET.SubElement(
            band_group,
            "rect",
            {
                "class": f"change-band change-band-{kind}",
                "x": str(LEFT),
                "y": str(top),
                "width": str(RIGHT - LEFT),
                "height": str(round(bottom - top, 1)),
                "fill": colour,
                "fill-opacity": "0.08",
            },
        )
        _text_element(
            rect,
            "title",
            f"{kind.label}: no important change from the baseline {band.baseline:g}{unit} "
            f"between {band.improved_at:g}{unit} and {band.worse_at:g}{unit}",
        )
        level = y(float(band.baseline) / full_scale)
        ET.SubElement(
            band_group,
            "line",
            {"x1": str(LEFT), "x2": str(RIGHT), "y1": str(level), "y2": str(level)},
            stroke=colour,
            **{"stroke-opacity": "0.4", "stroke-dasharray": "1 3", "class": "baseline"},
        )

    # Grid and axes: pain 0-10 on the left, ODI 0-100 % on the right, on the same lines.
    grid = ET.SubElement(svg, "g", {"class": "grid", "stroke": "#d5dae1", "stroke-width": "1"})
    for step in range(6):
        level = y(step / 5)
        ET.SubElement(
            grid, "line", {"x1": str(LEFT), "x2": str(RIGHT), "y1": str(level), "y2": str(level)}
        )
        _text_element(
            svg,
            "text",
            str(step * 2),
            x=str(LEFT - 8),
            y=str(level + 4),
            fill=PAIN_COLOUR,
            **{"text-anchor": "end"},
        )
        _text_element(
            svg, "text", f"{step * 20}%", x=str(RIGHT + 8), y=str(level + 4), fill=ODI_COLOUR
        )
    ET.SubElement(
        svg,
        "line",
        {"x1": str(LEFT), "x2": str(RIGHT), "y1": str(BOTTOM), "y2": str(BOTTOM)},
        stroke="#6b7280",
    )
    for tick, text in _ticks(first, last):
        position = x(tick)
        ET.SubElement(
            svg,
            "line",
            {"x1": str(position), "x2": str(position), "y1": str(BOTTOM), "y2": str(BOTTOM + 4)},
            stroke="#6b7280",
        )
        _text_element(
            svg,
            "text",
            text,
            x=str(position),
            y=str(BOTTOM + 16),
            fill="#374151",
            **{"text-anchor": "middle"},
        )

    # Legend, above the plot.
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    ET.SubElement(
        legend,
        "line",
        {"x1": str(LEFT), "x2": str(LEFT + 18), "y1": "16", "y2": "16"},
        stroke=PAIN_COLOUR,
        **{"stroke-width": "2"},
    )
    ET.SubElement(legend, "circle", {"cx": str(LEFT + 9), "cy": "16", "r": "3"}, fill=PAIN_COLOUR)
    _text_element(legend, "text", "Pain (0 to 10, left)", x=str(LEFT + 24), y="20", fill="#111827")
    ET.SubElement(
        legend,
        "line",
        {"x1": str(LEFT + 150), "x2": str(LEFT + 168), "y1": "16", "y2": "16"},
        stroke=ODI_COLOUR,
        **{"stroke-width": "2", "stroke-dasharray": "5 3"},
    )
    ET.SubElement(
        legend,
        "rect",
        {"x": str(LEFT + 156), "y": "13", "width": "6", "height": "6"},
        fill=ODI_COLOUR,
    )
    _text_element(
        legend,
        "text",
        "Oswestry Disability Index (%, right)",
        x=str(LEFT + 174),
        y="20",
        fill="#111827",
    )

    # The series: ODI first so that pain, scored every visit, is drawn on top.
    _series(
        svg,
        odi_points,
        kind="odi",
        colour=ODI_COLOUR,
        x=x,
        y=lambda v: y(v / 100),
        describe=lambda p: f"ODI {p.value:.1f}% on {p.day:%d %b %Y}",
        dashed=True,
    )
    _series(
        svg,
        pain_points,
        kind="pain",
        colour=PAIN_COLOUR,
        x=x,
        y=lambda v: y(v / 10),
        describe=lambda p: f"Pain {p.value:g}/10 on {p.day:%d %b %Y}",
        dashed=False,
    )
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # built and escaped by ElementTree


def _day(point: Point) -> date:
    return point.day


def _domain(
    pain: list[Point], odi: list[Point], bands: list[PhaseSpan], today: date
) -> tuple[date, date]:
    days = [p.day for p in pain] + [p.day for p in odi] + [b.started_on for b in bands]
    days += [b.ended_on for b in bands if b.ended_on]
    if any(b.ended_on is None for b in bands):
        days.append(max(today, *days))  # a phase still on runs to today
    first, last = min(days), max(days)
    # A margin either side, so the first and last points are not drawn on the axes.
    margin = max(1, (last - first).days // 40)
    return first - timedelta(days=margin), last + timedelta(days=margin)


def _ticks(first: date, last: date) -> list[tuple[date, str]]:
    """The first of each month; each Monday, or each day, for a short history."""
    span = (last - first).days
    if span <= 45:
        if span <= 14:  # every day
            tick, step = first, 1
        else:  # every Monday
            tick, step = first + timedelta(days=(7 - first.weekday()) % 7), 7
        ticks = []
        while tick <= last:
            ticks.append((tick, f"{tick:%d %b}"))
            tick += timedelta(days=step)
        return ticks
    months = max(1, span // 240 + 1)  # every month, or every other one beyond eight months
    tick = date(first.year, first.month, 1)
    ticks = []
    while tick <= last:
        if tick >= first:
            text = f"{tick:%b %Y}" if tick.month == 1 or not ticks else f"{tick:%b}"
            ticks.append((tick, text))
        month = tick.month - 1 + months
        tick = date(tick.year + month // 12, month % 12 + 1, 1)
    return ticks


def _series(svg, points, *, kind, colour, x, y, describe, dashed) -> None:
    group = ET.SubElement(svg, "g", {"class": f"series series-{kind}"})
    if len(points) > 1:
        ET.SubElement(
            group,
            "polyline",
            {
                "points": " ".join(f"{x(p.day)},{y(p.value)}" for p in points),
                "fill": "none",
                "stroke": colour,
                "stroke-width": "2",
                "stroke-linejoin": "round",
                **({"stroke-dasharray": "5 3"} if dashed else {}),
            },
        )
    for point in points:
        cx, cy = x(point.day), y(point.value)
        if kind == "pain":
            marker = ET.SubElement(
                group,
                "circle",
                {"class": "point pain-point", "cx": str(cx), "cy": str(cy), "r": "3.5"},
                fill=colour,
                stroke="#ffffff",
            )
        else:
            marker = ET.SubElement(
                group,
                "rect",
                {
                    "class": "point odi-point",
                    "x": str(round(cx - 4, 1)),
                    "y": str(round(cy - 4, 1)),
                    "width": "8",
                    "height": "8",
                },
                fill=colour,
                stroke="#ffffff",
            )
        _text_element(marker, "title", describe(point))


def _description(pain: list[Point], odi: list[Point], bands: list[PhaseSpan]) -> str:
    parts = []
    for name, points, unit in (("Pain", pain, "/10"), ("ODI", odi, "%")):
        if points:
            parts.append(
                f"{name}: {len(points)} scores, from {points[0].value:g}{unit} on "
                f"{points[0].day:%d %b %Y} to {points[-1].value:g}{unit} on "
                f"{points[-1].day:%d %b %Y}."
            )
    if bands:
        names = ", ".join(PHASE_SHORT.get(b.phase, b.phase) for b in bands)
        parts.append(f"Phases: {names}.")
    return " ".join(parts) or "No scores yet."


def _text_element(parent, tag: str, text: str, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = text
    return element


# --- the clinic outcomes report: the share improved, with its n ---------------------------

REPORT_LABEL_WIDTH = 190  # the groups' names, left of the bars
BAR, BAR_GAP, GROUP_GAP = 12, 3, 14


def outcomes_chart(rows: Sequence[Row], *, title: str) -> SafeString:
    """The share of each group who reached an important improvement, one bar per measure
    and time point (ODI, then pain; 6 weeks lighter, 12 weeks full), each labelled with
    its counts ("4 of 8"), as SVG markup safe to put in a template. A withheld group is
    named without a bar; nothing is drawn without groups."""
    if not rows:
        return mark_safe("")
    bars = [(kind, weeks) for kind in REPORT_MEASURES for weeks in REPORT_WEEKS]
    left, right = REPORT_LABEL_WIDTH, WIDTH - 120
    group_height = len(bars) * (BAR + BAR_GAP) + GROUP_GAP
    height = TOP + len(rows) * group_height + 10
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NAMESPACE,
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
            "role": "img",
            "aria-labelledby": "outcomes-chart-title",
            "class": "outcomes-chart",
            "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "font-size": "11",
        },
    )
    _text_element(svg, "title", title, id="outcomes-chart-title")
    colours = {MeasureKind.ODI: ODI_COLOUR, MeasureKind.PAIN: PAIN_COLOUR}
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    position = left
    for kind, weeks in bars:
        ET.SubElement(
            legend,
            "rect",
            {"x": str(position), "y": "10", "width": "10", "height": "10"},
            fill=colours[kind],
            **{"fill-opacity": _opacity(weeks)},
        )
        text = f"{MEASURE_NAMES[kind]} by {weeks} weeks"
        _text_element(legend, "text", text, x=str(position + 14), y="19", fill="#111827")
        position += 14 + 6 * len(text) + 14
    for step in range(0, 101, 25):  # the scale: 0 to 100 %
        x = round(left + (right - left) * step / 100, 1)
        ET.SubElement(
            svg,
            "line",
            {"x1": str(x), "x2": str(x), "y1": str(TOP - 8), "y2": str(height - 10)},
            stroke="#d5dae1",
        )
        _text_element(
            svg,
            "text",
            f"{step}%",
            x=str(x),
            y=str(TOP - 12),
            fill="#6b7280",
            **{"text-anchor": "middle"},
        )
    for index, row in enumerate(rows):
        top = TOP + index * group_height
        group = ET.SubElement(svg, "g", {"class": "group"})
        _text_element(
            group,
            "text",
            row.label,
            x="8",
            y=str(top + BAR),
            fill="#111827",
            **{"font-weight": "600"},
        )
        if row.withheld:
            _text_element(
                group,
                "text",
                "withheld (small group)",
                x="8",
                y=str(top + 2 * BAR + 4),
                fill="#6b7280",
            )
            continue
        for position, (kind, weeks) in enumerate(bars):
            tally = row.tallies[kind, weeks]
            y = top + position * (BAR + BAR_GAP)
            width = round((right - left) * (tally.share or 0), 1)
            described = (
                f"{tally.share:.0%} ({tally.improved} of {tally.measured})"
                if tally.measured
                else "nobody measured"
            )
            bar = ET.SubElement(
                group,
                "rect",
                {
                    "class": f"bar bar-{kind}-{weeks}",
                    "x": str(left),
                    "y": str(y),
                    "width": str(width),
                    "height": str(BAR),
                },
                fill=colours[kind],
                **{"fill-opacity": _opacity(weeks)},
            )
            _text_element(
                bar, "title", f"{row.label}: {MEASURE_NAMES[kind]} by {weeks} weeks, {described}"
            )
            _text_element(
                group,
                "text",
                described,
                x=str(round(left + width + 4, 1)),
                y=str(y + BAR - 2),
                fill="#374151",
            )
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # built and escaped by ElementTree


def _opacity(weeks: int) -> str:
    """The longest time point in full colour, the earlier ones lighter."""
    return "1" if weeks == max(REPORT_WEEKS) else "0.5"
