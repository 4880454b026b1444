import pytest


@pytest.fixture(autouse=True)
def _clock_frozen(frozen_now):
    yield
