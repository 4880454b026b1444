from collections.abc import Iterator

import pytest
from django.db import transaction

from demo.seed import SeedSummary, seed_demo


@pytest.fixture(scope="package")
def demo_clinic(django_db_setup, django_db_blocker) -> Iterator[SeedSummary]:
    """The demo clinic, seeded once for the package (it takes seconds) and rolled back after:
    both modules' tests are one `xdist_group`, which `--dist loadgroup` sends to one worker,
    so it is seeded once per run. (pytest stays below 9.2 until pytest-xdist groups under it
    again: pytest-dev/pytest-xdist#1386.)

    Each test still runs inside its own savepoint through pytest-django's `db` fixture, so
    what one test writes (a second seeding run) is gone before the next.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)
