from collections.abc import Iterator

import pytest
from django.db import transaction

from demo.seed import SeedSummary, seed_demo


@pytest.fixture(scope="module")
def demo_clinic(django_db_setup, django_db_blocker) -> Iterator[SeedSummary]:
    """The demo clinic, seeded once for the module (it takes seconds) and rolled back after.

    Each test still runs inside its own savepoint through pytest-django's `db` fixture, so
    what one test writes (a second seeding run) is gone before the next.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)
