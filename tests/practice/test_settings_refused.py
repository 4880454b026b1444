"""Set-up the diary cannot live with is refused, at every door: a slot grid that does not
divide the hour, a break outside its shift (issue 16)."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from practice.models import BookingRules, Break
from tests.factories import WorkingHoursFactory

BREAK_INSIDE_ITS_SHIFT = "break_inside_its_shift"  # the refusal's name

pytestmark = pytest.mark.django_db


def post_booking_rules(client, grid: str):
    rules = BookingRules.current()
    return client.post(
        reverse("admin:practice_bookingrules_change", args=[rules.pk]),
        {
            "slot_grid_minutes": grid,
            "online_lead_time_minutes": "120",
            "online_horizon_days": "56",
            "cancellation_window_hours": "24",
            "new_patients_start_with_assessment": "on",
        },
    )


def test_the_slot_grids_offered_are_the_divisors_of_the_hour_from_five_minutes():
    field = BookingRules._meta.get_field("slot_grid_minutes")

    assert [minutes for minutes, _ in field.choices] == [5, 10, 15, 20, 30, 60]


@pytest.mark.parametrize("grid", ["7", "45", "90"])
def test_the_admin_refuses_a_grid_that_does_not_divide_the_hour(manager_staff, grid):
    """A 7-minute grid gave slots at 08:00, 08:07 … 08:56, 09:03."""
    response = post_booking_rules(manager_staff, grid)

    assert response.status_code == 200
    assert "slot_grid_minutes" in response.context["adminform"].form.errors
    assert BookingRules.current().slot_grid_minutes == 15


def test_the_admin_takes_a_grid_that_divides_the_hour(manager_staff):
    response = post_booking_rules(manager_staff, "20")

    assert response.status_code == 302
    assert BookingRules.current().slot_grid_minutes == 20


def test_the_database_refuses_a_grid_that_does_not_divide_the_hour():
    BookingRules.current()

    with (
        pytest.raises(IntegrityError, match="booking_rules_grid_divides_the_hour"),
        transaction.atomic(),
    ):
        BookingRules.objects.filter(pk=1).update(slot_grid_minutes=7)


@pytest.fixture
def shift():
    return WorkingHoursFactory(start_time=time(9), end_time=time(17))


@pytest.mark.parametrize(
    ("start", "end"), [(time(8), time(9, 30)), (time(16, 30), time(17, 30)), (time(18), time(19))]
)
def test_a_break_outside_its_shift_is_refused(shift, start, end):
    outside = Break(working_hours=shift, start_time=start, end_time=end)

    with pytest.raises(ValidationError, match="inside its shift"):
        outside.full_clean()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        outside.save()
    assert refused.value.__cause__.diag.constraint_name == BREAK_INSIDE_ITS_SHIFT


def test_a_break_inside_its_shift_is_kept(shift):
    lunch = Break(working_hours=shift, start_time=time(12), end_time=time(17))

    lunch.full_clean()
    lunch.save()

    assert shift.breaks.get() == lunch


def test_a_shift_cannot_be_shortened_past_its_break(shift):
    Break.objects.create(working_hours=shift, start_time=time(16), end_time=time(16, 30))
    shift.end_time = time(16)

    with pytest.raises(ValidationError, match="break outside the shift"):
        shift.full_clean()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        shift.save()
    assert refused.value.__cause__.diag.constraint_name == BREAK_INSIDE_ITS_SHIFT


def rota_line_form(shift, *, end: str, breaks: list[tuple[str, str]]) -> dict[str, str]:
    form = {
        "practitioner": str(shift.practitioner_id),
        "location": str(shift.location_id),
        "weekday": "0",
        "start_time": "09:00",
        "end_time": end,
        "valid_from": "",
        "valid_until": "",
        "breaks-TOTAL_FORMS": str(len(breaks)),
        "breaks-INITIAL_FORMS": "0",
    }
    for number, (start, stop) in enumerate(breaks):
        form[f"breaks-{number}-start_time"] = start
        form[f"breaks-{number}-end_time"] = stop
    return form


def test_the_admin_refuses_a_break_outside_its_shift_naming_it(manager_staff, shift):
    response = manager_staff.post(
        reverse("admin:practice_workinghours_change", args=[shift.pk]),
        rota_line_form(shift, end="17:00", breaks=[("17:00", "17:30")]),
    )

    assert response.status_code == 200
    assert "A break must lie inside its shift (09:00-17:00)." in response.content.decode()
    assert not shift.breaks.exists()


def test_the_admin_refuses_to_shorten_a_shift_past_its_break(manager_staff, shift):
    Break.objects.create(working_hours=shift, start_time=time(16), end_time=time(16, 30))

    response = manager_staff.post(
        reverse("admin:practice_workinghours_change", args=[shift.pk]),
        rota_line_form(shift, end="16:00", breaks=[]),
    )

    assert response.status_code == 200
    assert "Move or delete the break first." in response.content.decode()
    shift.refresh_from_db()
    assert shift.end_time == time(17)
