"""The schema fuzz's database: each test inside a transaction rolled back at its end, ids
counted from 1 again.

Schemathesis calls Django's WSGI handler in this process, which closes the connection around
each request (`close_old_connections`, as a server would): inside the test's transaction
that would lose it. Django's own test client unhooks the same two receivers for its
requests; here they stay unhooked for the test. Rolling back instead of flushing the
database after each test (a transactional test's TRUNCATE of every table) saves about half
a second per test, over the ~450 tests of the two schema modules.
"""

from collections.abc import Iterator

import pytest
from django.apps import apps
from django.core.management.color import no_style
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection


@pytest.fixture(autouse=True)
def fuzzed_database(db) -> Iterator[None]:
    """Sequences restarted after the highest id (1 for an empty table: the rows the test
    makes are 1, 2, 3..., which the fuzz's dictionaries steer ids to; rows the migrations
    seeded keep theirs). `setval` is outside the transaction: the next test sets it again."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
