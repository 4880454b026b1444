"""Joins racing for one patient and service: one entry, every other caller told so.

Each join is its own thread and database connection; a barrier releases them together, so
they race through the service's check and PostgreSQL's partial unique key."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from kernel.errors import DomainError
from tests.fixtures.clinic import TODAY
from waitlist.models import WaitlistEntry
from waitlist.services import Wish, join_waitlist

pytestmark = pytest.mark.django_db(transaction=True)

JOINERS = 8


def test_racing_joins_make_one_entry_and_refuse_the_rest(patient_user, myotherapy):
    barrier = threading.Barrier(JOINERS)
    outcomes: list[str] = []

    def join() -> None:
        try:
            barrier.wait(timeout=30)
            join_waitlist(
                patient=patient_user.patient,
                service=myotherapy,
                by=patient_user,
                wish=Wish(latest_date=TODAY + timedelta(days=30)),
            )
            outcomes.append("joined")
        except DomainError as refusal:
            outcomes.append(refusal.code)
        except Exception as error:  # an IntegrityError would reach the API as a 500
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=join) for _ in range(JOINERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert Counter(outcomes) == {"joined": 1, "already_on_waitlist": JOINERS - 1}
    assert WaitlistEntry.objects.count() == 1
