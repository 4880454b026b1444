"""The audit's tests read both doors (the API's JWT clients and the admin's logged-in staff,
`tests/fixtures/`), over the one-location clinic with its clock frozen and no throttle counts."""

import pytest


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now, fresh_throttles):
    yield
