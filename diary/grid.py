"""The appointment book's time grid: appointments, working time and leave placed on rows of
a quarter of an hour, for the day view's practitioners or rooms and the week view's days.

Only layout lives here: what is booked, who works when and which starts are free come from
the scheduling core and the selectors, already read. Everything is placed by wall-clock
seconds from the local midnight of the column's day, so 9:00 sits on the 9:00 row on both
sides of a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from appointments.availability import WorkingWindow
from appointments.models import Appointment
from practice.models import Leave

ROW_SECONDS = 15 * 60
HOUR = 3600
DAY = 24 * HOUR
# With nobody on the rota and nothing booked, the grid still shows an ordinary day.
QUIET_DAY = (8 * HOUR, 18 * HOUR)


def wall_seconds(moment: datetime, day: date, zone: ZoneInfo) -> int:
    """Wall-clock seconds of `moment` from the midnight starting `day` at `zone`, kept
    within that day."""
    local = moment.astimezone(zone)
    seconds = (local.date() - day).days * DAY + local.hour * HOUR + local.minute * 60
    return min(max(seconds, 0), DAY)


def wall_moment(day: date, seconds: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone) + timedelta(seconds=seconds)


@dataclass
class Column:
    """One column of the grid: a practitioner's or a room's day, or one day of a week."""

    key: str  # what the column is, for the page's data attributes
    title: str
    day: date
    appointments: list[Appointment]
    working: list[WorkingWindow] = field(default_factory=list)
    leave: list[Leave] = field(default_factory=list)
    # Cells of free working time book with this practitioner; rooms are chosen by the core.
    practitioner_id: int | None = None
    # Places side by side: a gym holds a few sessions at once.
    capacity: int = 1
    working_day: bool = True


@dataclass
class Grid:
    rows: int
    hours: list[dict]
    columns: list[dict]


def lay_out(
    columns: list[Column],
    *,
    zone: ZoneInfo,
    block: Callable[[Appointment], dict],
    cell_url: Callable[[Column, WorkingWindow, datetime], str] | None,
    free_starts: set[tuple[int, int]] = frozenset(),
) -> Grid:
    """Place every column's working time, breaks, leave, appointments and empty cells.

    `block(appointment)` gives what a block shows (its text, links, markers); `cell_url`, if
    the user may book, where a click on an empty cell of working time goes. `free_starts`
    holds (practitioner id, epoch second) of the chosen service's free starts, marked on
    their cells.
    """
    first, last = _axis(columns, zone)
    grid = Grid(rows=(last - first) // ROW_SECONDS, hours=[], columns=[])
    grid.hours = [
        {"style": _style(top=_rows(second - first)), "label": f"{second // HOUR:02d}:00"}
        for second in range(first, last, HOUR)
    ]
    for column in columns:
        pieces = sorted((w.start_second, w.end_second) for w in column.working)
        away = [
            (wall_seconds(leave.start, column.day, zone), wall_seconds(leave.end, column.day, zone))
            for leave in column.leave
        ]
        blocks = [
            _placed(appointment, column, zone, first, block(appointment))
            # Those holding their time first when two share a start: the order read out.
            for appointment in sorted(
                column.appointments, key=lambda a: (a.start, not a.is_occupying)
            )
        ]
        taken = [(b["from"], b["until"]) for b in blocks if b["appointment"].is_occupying]
        grid.columns.append(
            {
                "column": column,
                "shades": [
                    *_shades(pieces, first, last),
                    *(
                        {
                            "kind": "leave",
                            "label": f"Leave{': ' + leave.reason if leave.reason else ''}",
                            "style": _style(top=_rows(start - first), height=_rows(end - start)),
                        }
                        for leave, (start, end) in zip(column.leave, away, strict=True)
                        if end > start
                    ),
                ],
                "blocks": blocks,
                "cells": _cells(column, zone, first, away, taken, cell_url, free_starts)
                if cell_url is not None and column.practitioner_id is not None
                else [],
            }
        )
    return grid


def _rows(seconds: int) -> float:
    return round(seconds / ROW_SECONDS, 3)


def _style(**place: float) -> str:
    """Where an item sits, as the CSS variables the grid's stylesheet places it by: written
    once here rather than looked up piece by piece in the template, for a few hundred items."""
    return "; ".join(f"--{name}: {value}" for name, value in place.items())


def _axis(columns: Iterable[Column], zone: ZoneInfo) -> tuple[int, int]:
    """From the hour of the earliest rota start (or booking) to the hour after the latest."""
    starts, ends = [], []
    for column in columns:
        for window in column.working:
            starts.append(window.start_second)
            ends.append(window.end_second)
        for appointment in column.appointments:
            starts.append(wall_seconds(appointment.start, column.day, zone))
            ends.append(wall_seconds(appointment.blocked_until, column.day, zone))
    if not starts:
        return QUIET_DAY
    first = min(starts) // HOUR * HOUR
    last = -(-max(ends) // HOUR) * HOUR
    return first, max(last, first + HOUR)


def _shades(pieces: list[tuple[int, int]], first: int, last: int) -> list[dict]:
    """Time off the rota: before the first and after the last stretch worked, and the
    breaks between them."""
    shades = []
    edge = first
    for index, (start, end) in enumerate([*pieces, (last, last)]):
        if start > edge:
            between = 0 < index < len(pieces)
            shades.append(
                {
                    "kind": "break" if between else "off",
                    "label": "Break" if between else "Not on the rota",
                    "style": _style(top=_rows(edge - first), height=_rows(start - edge)),
                }
            )
        edge = max(edge, end)
    return shades


def _placed(
    appointment: Appointment, column: Column, zone: ZoneInfo, first: int, shown: dict
) -> dict:
    start = wall_seconds(appointment.start, column.day, zone)
    end = wall_seconds(appointment.end, column.day, zone)
    until = max(wall_seconds(appointment.blocked_until, column.day, zone), end)
    lane = min(max(appointment.room_place, 1), column.capacity) - 1 if column.capacity > 1 else 0
    return {
        **shown,
        "appointment": appointment,
        "from": start,
        "until": until,
        "style": _style(
            top=_rows(start - first),
            height=max(_rows(until - start), 1),
            lane=lane,
            lanes=column.capacity,
        ),
        # The buffer after the session, as a share of the block.
        "buffer": round(100 * (until - end) / (until - start), 1) if until > start else 0,
    }


def _cells(
    column: Column,
    zone: ZoneInfo,
    first: int,
    away: list[tuple[int, int]],
    taken: list[tuple[int, int]],
    cell_url: Callable[[Column, WorkingWindow, datetime], str],
    free_starts: set[tuple[int, int]],
) -> list[dict]:
    """The empty quarters of working time, each a link to book there."""
    cells = []
    for window in column.working:
        second = -(-window.start_second // ROW_SECONDS) * ROW_SECONDS
        while second + ROW_SECONDS <= window.end_second:
            quarter = (second, second + ROW_SECONDS)
            if not any(_overlap(quarter, busy) for busy in (*away, *taken)):
                start = wall_moment(column.day, second, zone)
                cells.append(
                    {
                        "style": _style(top=_rows(second - first), height=1),
                        "time": f"{second // HOUR:02d}:{second % HOUR // 60:02d}",
                        "free": (column.practitioner_id, int(start.timestamp())) in free_starts,
                        "url": cell_url(column, window, start),
                    }
                )
            second += ROW_SECONDS
    return cells


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
