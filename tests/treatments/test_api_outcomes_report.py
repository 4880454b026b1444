"""`GET /api/v1/reports/outcomes/`: the clinic outcomes report (`treatments.outcomes_report`)
for managers, the admin page's figures; nobody else; bad input is a 400 naming the field."""

import pytest

from audit.models import Action, AuditEntry
from tests.treatments.outcomes_cohort import PERIOD

pytestmark = pytest.mark.usefixtures("frozen_now")

REPORT = "/api/v1/reports/outcomes/"
BY_PRACTITIONER = {"from": PERIOD[0].isoformat(), "to": PERIOD[1].isoformat(), "by": "practitioner"}


def outcome(row: dict, measure: str, weeks: int) -> dict:
    return next(o for o in row["outcomes"] if (o["measure"], o["weeks"]) == (measure, weeks))


class TestAccess:
    @pytest.mark.parametrize(
        ("client", "status"),
        [
            ("anonymous", 401),
            ("as_patient", 403),
            ("as_reception", 403),
            ("as_practitioner", 403),
            ("as_manager", 200),
        ],
    )
    def test_only_managers_read_it(self, client, status, request, db):
        assert request.getfixturevalue(client).get(REPORT).status_code == status


class TestFigures:
    def test_the_overall_figures_with_their_counts(self, as_manager, outcomes_cohort):
        answer = as_manager.get(REPORT, BY_PRACTITIONER).json()

        overall = answer["overall"]
        assert overall["patients"] == 11
        assert outcome(overall, "odi", 12) == {
            "measure": "odi",
            "weeks": 12,
            "improved": 6,
            "not_improved": 1,
            "measured": 7,
            "not_measured": 3,
            "too_early": 1,
            "share": pytest.approx(6 / 7),
        }
        assert {s["measure"]: (s["median"], s["n"]) for s in overall["sessions_to_improve"]} == {
            "odi": (6.0, 6),
            "pain": (3.0, 5),
        }

    def test_a_withheld_group_gives_no_figure_not_even_its_size(self, as_manager, outcomes_cohort):
        groups = {g["label"]: g for g in as_manager.get(REPORT, BY_PRACTITIONER).json()["groups"]}

        assert groups["Cal Coach"] == {
            "key": groups["Cal Coach"]["key"],
            "label": "Cal Coach",
            "patients": None,
            "withheld": "fewer_than_min_count",
            "outcomes": [],
            "sessions_to_improve": [],
        }
        assert groups["Mia Myo"]["patients"] == 6

    def test_it_is_audited_as_a_read_of_the_report(self, as_manager, manager, outcomes_cohort):
        as_manager.get(REPORT, BY_PRACTITIONER)

        entry = AuditEntry.objects.get(actor=manager, detail__report="clinic outcomes")
        assert (entry.action, entry.patient_id, entry.detail["by"]) == (
            Action.READ,
            None,
            "practitioner",
        )


class TestBadInput:
    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"from": "2026-12-31", "to": "2026-09-01"}, "to"),
            ({"from": "yesterday"}, "from"),
            ({"to": "0001-01-01"}, "to"),
            ({"by": "postcode"}, "by"),
        ],
    )
    def test_is_a_400_naming_the_field(self, as_manager, query, field):
        response = as_manager.get(REPORT, query)

        assert response.status_code == 400
        assert field in response.json()["fields"]
