"""The clinic outcomes report in the admin (`treatments.admin.report`): a manager who is not
a superuser reads it and downloads it as CSV; practitioners and reception do not; a period
that is no period is a form error; every view and download is audited."""

import csv
import io

import pytest

from audit.models import Action, AuditEntry
from tests.treatments.admin_helpers import url
from tests.treatments.outcomes_cohort import PERIOD
from treatments.admin.report import csv_header

pytestmark = pytest.mark.usefixtures("frozen_now")

REPORT = url("outcomemeasure", "report")
CSV = url("outcomemeasure", "report_csv")
BY_PRACTITIONER = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat(), "by": "practitioner"}


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


class TestWhoReadsIt:
    def test_a_manager_who_is_not_a_superuser_reads_the_figures(
        self, manager_staff, manager_staff_user, outcomes_cohort
    ):
        assert not manager_staff_user.is_superuser

        response = manager_staff.get(REPORT, BY_PRACTITIONER)

        assert response.status_code == 200
        page = response.content.decode()
        # All patients: ODI by 12 weeks, 6 of the 7 measured again (hand-counted in
        # test_outcomes_report).
        assert "86%" in page and "(6 of 7 measured)" in page
        assert "Mia Myo" in page and "fewer than 5 patients" in page
        assert "<svg" in page and "outcomes-chart" in page

    def test_the_page_opens_on_the_last_twelve_months_by_service(self, manager_staff, db):
        response = manager_staff.get(REPORT)

        assert response.status_code == 200
        report = response.context["report"]
        assert (report.start.isoformat(), report.end.isoformat(), report.by) == (
            "2026-03-23",
            "2027-03-22",
            "service",
        )

    @pytest.mark.parametrize("client", ["practitioner_staff", "reception_staff"])
    @pytest.mark.parametrize("page", [REPORT, CSV])
    def test_practitioners_and_reception_are_refused(self, client, page, request, db):
        response = request.getfixturevalue(client).get(page)

        assert response.status_code == 403

    def test_the_outcome_measures_list_links_to_it_for_managers_only(
        self, manager_staff, practitioner_staff
    ):
        changelist = url("outcomemeasure", "changelist")

        assert REPORT in manager_staff.get(changelist).content.decode()
        assert REPORT not in practitioner_staff.get(changelist).content.decode()


class TestCsv:
    def test_the_csv_is_the_pages_table(self, manager_staff, outcomes_cohort):
        response = manager_staff.get(CSV, BY_PRACTITIONER)

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = rows_of(response)
        assert list(rows[0]) == csv_header()
        overall = rows[0]
        assert (overall["group"], overall["patients"]) == ("All patients", "11")
        assert (overall["odi_12wk_improved"], overall["odi_12wk_measured"]) == ("6", "7")
        assert (overall["odi_12wk_not_measured"], overall["odi_12wk_too_early"]) == ("3", "1")
        assert overall["odi_12wk_share_improved_percent"] == "85.7"
        assert (overall["pain_median_sessions_to_improve"], overall["pain_improved_by_12wk_n"]) == (
            "3.0",
            "5",
        )

    def test_a_withheld_group_has_its_name_and_why_and_no_figure(
        self, manager_staff, outcomes_cohort
    ):
        rows = {row["group"]: row for row in rows_of(manager_staff.get(CSV, BY_PRACTITIONER))}

        cal = rows["Cal Coach"]
        assert cal["withheld"] == "fewer than 5 patients"
        assert all(
            value in ("", None) for key, value in cal.items() if key not in ("group", "withheld")
        )

    def test_no_patient_is_named(self, manager_staff, outcomes_cohort):
        content = manager_staff.get(CSV, BY_PRACTITIONER).content.decode()

        assert "Cohort" not in content and "Outsider" not in content  # the patients' surname

    def test_a_name_that_looks_like_a_formula_stays_text(
        self, manager_staff, outcomes_cohort, myotherapy, settings
    ):
        settings.CLINIC_OUTCOMES_MIN_COUNT = 1
        myotherapy.name = "=HYPERLINK(1)"
        myotherapy.save()

        rows = rows_of(manager_staff.get(CSV, {**BY_PRACTITIONER, "by": "service"}))

        assert rows[1]["group"] == "'=HYPERLINK(1)"


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "2026-12-31", "to": "2026-09-01"}, "to"),
            ({"from": "yesterday"}, "from"),
            ({"to": "2026-02-30"}, "to"),
            ({"from": "0001-01-01"}, "from"),
            ({"by": "postcode"}, "by"),
        ],
    )
    @pytest.mark.parametrize("page", [REPORT, CSV])
    def test_is_a_form_error_never_a_server_error(self, manager_staff, query, field, page):
        response = manager_staff.get(page, query)

        assert response.status_code == 400
        assert field in response.context["form"].errors
        assert response.context["report"] is None


class TestAudit:
    def test_a_view_is_a_read_and_a_download_an_export_naming_the_period(
        self, manager_staff, manager_staff_user, outcomes_cohort
    ):
        manager_staff.get(REPORT, BY_PRACTITIONER)
        manager_staff.get(CSV, BY_PRACTITIONER)

        entries = AuditEntry.objects.filter(
            actor=manager_staff_user, detail__report="clinic outcomes"
        ).order_by("pk")
        assert [(e.action, e.detail["by"], e.detail["from"]) for e in entries] == [
            (Action.READ, "practitioner", "2026-09-01"),
            (Action.EXPORT, "practitioner", "2026-09-01"),
        ]
        assert all(entry.patient_id is None for entry in entries)
