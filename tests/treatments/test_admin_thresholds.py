"""The thresholds of clinically important change in the admin: a manager changes one (the
classification follows), practitioners read them, nobody adds or deletes one, and a value
the database would refuse is a form error, not a server error."""

from decimal import Decimal

import pytest

from tests.treatments.admin_helpers import url
from treatments.models import ImportantChange, MeasureKind

pytestmark = pytest.mark.usefixtures("frozen_now")


def form(row: ImportantChange, **changes) -> dict:
    data = {
        "points": str(row.points),
        "percent": "" if row.percent is None else str(row.percent),
        "source": row.source,
        "recovered_at_most": "" if row.recovered_at_most is None else str(row.recovered_at_most),
        "recovered_source": row.recovered_source,
    }
    return {**data, **changes}


@pytest.fixture
def psfs(db) -> ImportantChange:
    return ImportantChange.objects.get(kind=MeasureKind.PSFS)


def test_a_manager_changes_a_threshold(manager_staff, psfs):
    response = manager_staff.post(
        url("importantchange", "change", psfs.pk), form(psfs, points="2.7")
    )

    assert response.status_code == 302
    psfs.refresh_from_db()
    assert psfs.points == Decimal("2.7")


def test_a_recovery_on_a_higher_is_better_instrument_is_a_form_error(manager_staff, psfs):
    response = manager_staff.post(
        url("importantchange", "change", psfs.pk), form(psfs, recovered_at_most="8")
    )

    assert response.status_code == 200
    assert "lower is better" in str(response.context["adminform"].form.errors)


def test_a_practitioner_reads_but_does_not_change(practitioner_staff, psfs):
    assert practitioner_staff.get(url("importantchange", "changelist")).status_code == 200
    response = practitioner_staff.post(
        url("importantchange", "change", psfs.pk), form(psfs, points="5")
    )

    assert response.status_code == 403
    psfs.refresh_from_db()
    assert psfs.points == Decimal("2")
