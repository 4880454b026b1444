"""The personas of the API tests (JWT clients) and of the admin tests (logged-in staff), for
the audit's tests of both, over the one-location clinic with its clock frozen."""

import pytest

from tests.admin.conftest import (  # noqa: F401
    manager_staff,
    manager_staff_user,
    practitioner_staff,
    practitioner_staff_user,
    reception_staff,
    reception_staff_user,
)
from tests.api.conftest import (  # noqa: F401
    anonymous,
    as_manager,
    as_other_patient,
    as_other_practitioner,
    as_patient,
    as_practitioner,
    as_reception,
    fresh_throttles,
    manager,
    other_patient_user,
    patient_user,
    reception,
)


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield
