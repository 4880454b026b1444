"""The clinic outcomes report in the admin, for managers: the period and grouping picked on
the page, the table and the chart of `treatments.outcomes_report.outcomes_report`, and the
same table as CSV. Pages of the outcome measures' admin
(`/admin/treatments/outcomemeasure/report/` and `.../report/csv/`).

Only managers (the Manager group, or a superuser) open them: the report reads every
patient's scores, though it shows none. Practitioners and reception get 403. Each view of
the report and each download is audited (a read and an export, with the period and the
grouping; no patient is named: the report shows none).
"""

from __future__ import annotations

import csv
import io

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts.roles import Role, roles_of
from audit.models import Action
from audit.services import record

from ..admin_forms import OutcomesReportForm
from ..charts import outcomes_chart
from ..outcomes_report import (
    MEASURE_NAMES,
    MEASURES,
    WEEKS,
    GroupBy,
    OutcomesReport,
    Row,
    Withheld,
    outcomes_report,
)


class OutcomesReportPages:
    """The report's two pages, on the outcome measures' admin."""

    def get_urls(self):
        def view(page):  # pages that read only: GET (and HEAD)
            return self.admin_site.admin_view(require_safe(page))

        return [
            path("report/", view(self.report_view), name="treatments_outcomemeasure_report"),
            path(
                "report/csv/",
                view(self.report_csv_view),
                name="treatments_outcomemeasure_report_csv",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"may_see_report": may_see_report(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def report_view(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, *_read(request))

    def report_csv_view(self, request: HttpRequest) -> HttpResponse:
        form, report = _read(request, action=Action.EXPORT)
        if report is None:
            return self._page(request, form, None)  # the page, with what to correct
        response = HttpResponse(csv_of(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="clinic-outcomes-{report.start}-to-{report.end}'
            f'-by-{report.by}.csv"'
        )
        return response

    def _page(
        self, request: HttpRequest, form: OutcomesReportForm, report: OutcomesReport | None
    ) -> HttpResponse:
        columns = [_column_name(kind, weeks) for kind in MEASURES for weeks in WEEKS]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Clinic outcomes report",
            "form": form,
            "report": report,
            "min_count": report.min_count if report else None,
            "rows": [_shown(row, report.min_count) for row in _rows(report)] if report else [],
            "columns": columns,
            "withheld_span": 1 + len(columns) + len(MEASURES),
            "group_label": GroupBy(report.by).label if report else "",
            "measures": [MEASURE_NAMES[kind] for kind in MEASURES],
            "chart": outcomes_chart(_rows(report), title=_title(report)) if report else "",
            "csv_url": f"{reverse('admin:treatments_outcomemeasure_report_csv')}?"
            f"{request.GET.urlencode()}",
        }
        return TemplateResponse(
            request,
            "admin/treatments/outcomemeasure/report.html",
            context,
            status=200 if report else 400,
        )


def may_see_report(request: HttpRequest) -> bool:
    return Role.MANAGER in roles_of(request.user)


def _read(
    request: HttpRequest, *, action: str = Action.READ
) -> tuple[OutcomesReportForm, OutcomesReport | None]:
    """The form read from the query string, and the report it asks for (None when the form
    has errors), audited."""
    if not may_see_report(request):
        raise PermissionDenied
    form = OutcomesReportForm(request.GET, today=timezone.localdate())
    if not form.is_valid():
        return form, None
    report = outcomes_report(
        start=form.cleaned_data["from"],
        end=form.cleaned_data["to"],
        by=form.cleaned_data["by"],
        now=timezone.now(),
    )
    record(
        action,
        request=request,
        detail={
            "path": request.path,
            "report": "clinic outcomes",
            "from": report.start.isoformat(),
            "to": report.end.isoformat(),
            "by": report.by,
        },
    )
    return form, report


def _rows(report: OutcomesReport) -> list[Row]:
    return [report.overall, *report.groups]


def _title(report: OutcomesReport) -> str:
    return (
        f"Share with an important improvement, patients who started care from "
        f"{report.start:%d %b %Y} to {report.end:%d %b %Y}, by "
        f"{GroupBy(report.by).label.lower()}"
    )


def _column_name(kind: str, weeks: int) -> str:
    return f"{MEASURE_NAMES[kind]} by {weeks} weeks"


def withheld_text(row: Row, min_count: int) -> str:
    if row.withheld == Withheld.FEWER_THAN_MIN:
        return f"fewer than {min_count} patients"
    return "withheld so that a smaller group cannot be worked out"


def _shown(row: Row, min_count: int) -> dict:
    """A row as the page's table shows it."""
    if row.withheld:
        return {"label": row.label, "withheld": withheld_text(row, min_count)}
    cells = []
    for kind in MEASURES:
        for weeks in WEEKS:
            tally = row.tallies[kind, weeks]
            cells.append(
                {
                    "share": f"{tally.share:.0%}" if tally.measured else "—",
                    "improved": tally.improved,
                    "measured": tally.measured,
                    "not_measured": tally.not_measured,
                    "too_early": tally.too_early,
                }
            )
    sessions = [
        {"median": row.sessions[kind].median, "n": row.sessions[kind].n} for kind in MEASURES
    ]
    return {"label": row.label, "patients": row.patients, "cells": cells, "sessions": sessions}


# --- CSV -------------------------------------------------------------------------------------

_FIGURES = ("improved", "not_improved", "measured", "not_measured", "too_early")


def csv_header() -> list[str]:
    header = ["group", "patients", "withheld"]
    for kind in MEASURES:
        for weeks in WEEKS:
            header += [f"{kind}_{weeks}wk_{name}" for name in _FIGURES]
            header.append(f"{kind}_{weeks}wk_share_improved_percent")
    for kind in MEASURES:
        header += [f"{kind}_median_sessions_to_improve", f"{kind}_improved_by_12wk_n"]
    return header


def csv_of(report: OutcomesReport) -> str:
    """The report's table: a row for all patients, then one per group. Counts only: no
    patient is named or numbered; a withheld group has its name and why, nothing else."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(csv_header())
    for row in _rows(report):
        if row.withheld:
            writer.writerow([_safe(row.label), "", withheld_text(row, report.min_count)])
            continue
        cells: list[object] = [_safe(row.label), row.patients, ""]
        for kind in MEASURES:
            for weeks in WEEKS:
                tally = row.tallies[kind, weeks]
                cells += [getattr(tally, name) for name in _FIGURES]
                cells.append("" if tally.share is None else round(tally.share * 100, 1))
        for kind in MEASURES:
            median = row.sessions[kind].median
            cells += ["" if median is None else median, row.sessions[kind].n]
        writer.writerow(cells)
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (a service named
    "=HYPERLINK(...)" stays a name)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
