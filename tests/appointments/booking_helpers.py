"""What the booking tests share: the day after the frozen today, a service's refusal and the
appointments as they stand."""

from datetime import timedelta

import pytest

from appointments.models import Appointment
from kernel.errors import DomainError
from tests.fixtures.clinic import TODAY

TUESDAY = TODAY + timedelta(days=1)


def refusal(action) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action()
    return caught.value


def snapshot():
    return list(Appointment.objects.order_by("pk").values())
