"""One shape for every benchmark's results: rows of workload, figure, baseline, ratio,
target and verdict, printed as a table and written as JSON that `bench/run.py` gathers."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    workload: str
    figure: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None  # None: reported, no target

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "-"}[self.passed]


def print_table(rows: list[Row]) -> None:
    print_columns(
        ("workload", "figure", "baseline", "ratio", "target", "result"),
        [
            (
                row.workload,
                row.figure,
                row.baseline,
                "-" if row.ratio is None else f"{row.ratio:.2f}x",
                row.target,
                row.verdict,
            )
            for row in rows
        ],
    )


def print_columns(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> None:
    """A plain-text table: the header, a rule, then the lines, each column as wide as its
    widest cell."""
    lines = [header, *lines]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def machine() -> dict:
    """What the figures were measured on; a busy machine can easily double a timing."""
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def write(path: Path, benchmark: str, rows: list[Row], **details) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": benchmark,
        **machine(),
        "rows": [asdict(row) for row in rows],
        **details,
    }
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nWrote {path}")


def read_rows(path: Path) -> list[Row]:
    return [Row(**row) for row in json.loads(path.read_text())["rows"]]
