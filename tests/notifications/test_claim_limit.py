"""A scan claims at most its limit, whatever plan PostgreSQL picks for the claim."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Kind, Notification
from patients.models import Channel
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

# What makes PostgreSQL run the claim's picking subquery again for each row it updates:
# each run then no longer sees the rows claimed so far as due and picks others.
# A nested-loop semi-join with the subquery inside it, as the planner may pick on its own.
_REPEATING_PLAN = "; ".join(
    f"SET LOCAL enable_{method} = off"
    for method in (
        "hashjoin",
        "hashagg",
        "mergejoin",
        "material",
        "memoize",
        "indexscan",
        "bitmapscan",
        "sort",
    )
)


@pytest.mark.parametrize("repeating_plan", [False, True], ids=["as planned", "repeating plan"])
def test_a_claim_takes_no_more_than_its_limit(repeating_plan):
    patient = PatientFactory()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.bulk_create(
        Notification(
            kind=Kind.RECALL,
            channel=Channel.EMAIL,
            patient=patient,
            reason_key=f"claim-limit:{n}",
            due_at=an_hour_ago + timedelta(minutes=n),
        )
        for n in range(6)
    )

    with transaction.atomic():
        if repeating_plan:
            with connection.cursor() as cursor:
                cursor.execute(_REPEATING_PLAN)
        claimed = services.claim_due(limit=2)

    earliest = list(Notification.objects.order_by("due_at").values_list("pk", flat=True)[:2])
    assert claimed == earliest
    assert Notification.objects.filter(status=Delivery.SENDING).count() == 2
